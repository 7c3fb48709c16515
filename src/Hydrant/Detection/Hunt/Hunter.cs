using System.Threading.Channels;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Fields;
using Hydrant.Events.Formats;
using Hydrant.Events.Formats.Evtx;

namespace Hydrant.Detection.Hunt;

/// <summary>What one hunt found and read; <c>ByFile</c> counts each alert under the file of its first event.</summary>
public sealed record HuntSummary(long Records, long Events, long Rejected, long Alerts, IReadOnlyDictionary<string, long> ByRule, IReadOnlyDictionary<string, long> ByLevel, IReadOnlyDictionary<string, long> ByFile);

/// <summary>What a hunt tells as it goes: records it rejected, notices (an EVTX checksum that does not match), each file done.</summary>
public sealed record HuntReporting
{
    public Action<string>? Rejected { get; init; }

    public Action<string>? Notice { get; init; }

    public Action<string>? FileDone { get; init; }
}

/// <summary>
/// Rules over files, offline (like Hayabusa or Chainsaw): line-delimited input is read in chunks
/// that workers on every core parse and test in parallel, while a writer emits their alerts in
/// file order. Chunks in flight are bounded, so memory stays flat whatever the file size. No
/// suppression: one alert per matching event, and one per firing of a correlation. Correlations
/// run in that ordered stage, over the matches the workers found, so their windows see the events
/// in file order; windows still open at the end are closed.
/// </summary>
public sealed class Hunter(RuleSet rules, EventParser parser, ParseOptions options, CorrelationOptions? correlationOptions = null)
{
    private readonly CorrelationEngine _correlations = new(correlationOptions ?? new CorrelationOptions());

    private const int ChunkBytes = 4 * 1024 * 1024;
    private static readonly FieldName EventRecordId = FieldName.Of("EventRecordID");
    private const int WholeDocumentLimit = 256 * 1024 * 1024;

    public int Workers { get; init; } = Environment.ProcessorCount;

    public async Task<HuntSummary> RunAsync(IEnumerable<string> files, Func<Alert, ValueTask> emit, HuntReporting? reporting, CancellationToken cancellationToken)
    {
        reporting ??= new HuntReporting();
        var summary = new Counters();
        _correlations.Use(rules.Plan);
        // One pipeline for all the files, so that many small ones (an EVTX folder) keep every core busy.
        var chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(Workers * 2) { SingleWriter = true });
        var results = Channel.CreateBounded<(long Number, ChunkResult Result)>(new BoundedChannelOptions(Workers * 2) { SingleReader = true });

        var reader = Task.Run(() => ReadFilesAsync(files, chunks.Writer, cancellationToken), cancellationToken);
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            await foreach (var chunk in chunks.Reader.ReadAllAsync(cancellationToken))
            {
                await results.Writer.WriteAsync((chunk.Number, chunk.EndOfFile ? ChunkResult.FileEnd(chunk.File) : Evaluate(chunk)), cancellationToken);
            }
        }, cancellationToken)).ToList();
        var closer = Task.WhenAll(workers).ContinueWith(t => results.Writer.TryComplete(t.Exception), TaskScheduler.Default);

        // Results arrive in any order; emit them in file order.
        var pending = new Dictionary<long, ChunkResult>();
        var next = 0L;
        await foreach (var (number, result) in results.Reader.ReadAllAsync(cancellationToken))
        {
            pending[number] = result;
            while (pending.Remove(next, out var ready))
            {
                next++;
                if (ready.EndOfFile)
                {
                    reporting.FileDone?.Invoke(ready.File);
                    continue;
                }
                summary.Add(ready);
                foreach (var line in ready.Rejections)
                {
                    reporting.Rejected?.Invoke($"{ready.File}:{line}");
                }
                foreach (var notice in ready.Notices)
                {
                    reporting.Notice?.Invoke($"{ready.File}: {notice}");
                }
                foreach (var alert in ready.Alerts)
                {
                    await emit(alert);
                }
                await CorrelateAsync(ready, summary, emit);
            }
        }
        await reader;
        await closer;

        var firings = new List<CorrelationFiring>();
        _correlations.Flush(firings);
        await EmitAsync(firings, summary, emit);
        return summary.ToSummary();
    }

    /// <summary>Every file's chunks in order, numbered across files, each file closed by a chunk that marks its end.</summary>
    private async Task ReadFilesAsync(IEnumerable<string> files, ChannelWriter<Chunk> chunks, CancellationToken cancellationToken)
    {
        try
        {
            var number = 0L;
            foreach (var file in files)
            {
                number = await ReadChunksAsync(file, number, chunks, cancellationToken);
                await chunks.WriteAsync(new Chunk(file, number++, ReadOnlyMemory<byte>.Empty, 0) { EndOfFile = true }, cancellationToken);
            }
        }
        finally
        {
            chunks.TryComplete();
        }
    }

    /// <summary>Feeds a chunk's matches to the correlation windows, in file order, and emits what fires.</summary>
    private async Task CorrelateAsync(ChunkResult chunk, Counters summary, Func<Alert, ValueTask> emit)
    {
        var firings = new List<CorrelationFiring>();
        foreach (var (timestampMs, hits) in chunk.Hits)
        {
            _correlations.Observe(hits, timestampMs, firings);
        }
        _correlations.Advance(chunk.NewestMs, firings);
        await EmitAsync(firings, summary, emit);
    }

    private static async Task EmitAsync(List<CorrelationFiring> firings, Counters summary, Func<Alert, ValueTask> emit)
    {
        foreach (var firing in firings.Where(f => f.Node.RaisesAlerts))
        {
            var correlation = firing.Node.Correlation;
            var alert = Alert.Raise(correlation.Id, correlation.Title, correlation.Level, firing.GroupKey, firing.Events, firing.Count, firing.FirstMs, firing.LastMs);
            summary.Add(alert);
            await emit(alert);
        }
    }

    /// <summary>The file's chunks, numbered from <paramref name="number"/>; returns the number after its last.</summary>
    private async Task<long> ReadChunksAsync(string file, long number, ChannelWriter<Chunk> chunks, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var head = new byte[64 * 1024];
        var headLength = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        stream.Position = 0;
        if (EvtxFile.HasSignature(head.AsSpan(0, headLength)))
        {
            // An EVTX file, whatever the format says, in parts of whole chunks the workers read in parallel.
            await foreach (var (firstChunk, part) in EvtxFile.ReadPartsAsync(ReadOnlyMemory<byte>.Empty, stream, ChunkBytes, cancellationToken))
            {
                await chunks.WriteAsync(new Chunk(file, number++, part, 0) { Format = InputFormat.Evtx, FirstChunk = firstChunk }, cancellationToken);
            }
            return number;
        }
        if (FileShape.IsWholeDocument(head.AsSpan(0, headLength), options.Format))
        {
            if (stream.Length > WholeDocumentLimit)
            {
                throw new InvalidDataException($"{file} is one JSON document of {stream.Length} bytes; convert it to one record per line");
            }
            await chunks.WriteAsync(new Chunk(file, number++, await File.ReadAllBytesAsync(file, cancellationToken), 0), cancellationToken);
            return number;
        }
        var firstLine = 0L;
        var buffer = new byte[ChunkBytes];
        var filled = 0;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            filled += read;
            var endOfFile = read == 0;
            if (!endOfFile && filled < buffer.Length)
            {
                continue; // fill the chunk first
            }
            var end = endOfFile ? filled : buffer.AsSpan(0, filled).LastIndexOf((byte)'\n') + 1;
            if (end == 0)
            {
                if (endOfFile)
                {
                    return number;
                }
                Array.Resize(ref buffer, buffer.Length * 2); // one line longer than a chunk
                continue;
            }
            var data = buffer.AsSpan(0, end).ToArray();
            await chunks.WriteAsync(new Chunk(file, number++, data, firstLine), cancellationToken);
            firstLine += data.AsSpan().Count((byte)'\n');
            buffer.AsSpan(end, filled - end).CopyTo(buffer);
            filled -= end;
        }
    }

    private ChunkResult Evaluate(Chunk chunk)
    {
        var file = chunk.File;
        ParsedBatch batch;
        try
        {
            batch = parser.Parse(chunk.Data.Span, chunk.Format is { } format ? options with { Format = format, Position = chunk.FirstChunk } : options);
        }
        catch (EventParser.UnreadableBodyException e)
        {
            // Only blank lines; or an EVTX part that is no EVTX file.
            return new ChunkResult(file, 0, 0, [], chunk.Format is null ? [] : [e.Message], [], [], long.MinValue);
        }
        using (batch)
        {
            var evtx = chunk.Format == InputFormat.Evtx;
            var lines = evtx ? null : new Lazy<long[]>(() => LineNumbers(chunk));
            var alerts = new List<Alert>();
            var hits = new List<(long, List<CorrelationHit>)>();
            var newest = long.MinValue;
            var plan = rules.Plan;
            var matched = new List<SigmaRule>();
            var eventHits = new List<CorrelationHit>();
            foreach (var e in batch.Events)
            {
                using var view = new EventView(e.Json);
                newest = Math.Max(newest, e.TimestampMs);
                matched.Clear();
                eventHits.Clear();
                var index = e.Index;
                if (rules.Evaluate(view, e.Envelope, matched, eventHits, (v, behind) => behind with { File = file, Record = evtx ? RecordIdOf(v) : lines!.Value[index] }) is not { } behind)
                {
                    continue;
                }
                foreach (var rule in matched)
                {
                    if (plan.RaisesAlerts(rule))
                    {
                        alerts.Add(Alert.Raise(rule.Id, rule.Title, rule.Level, groupKey: null, [behind], 1, e.TimestampMs, e.TimestampMs));
                    }
                }
                if (eventHits.Count > 0)
                {
                    hits.Add((e.TimestampMs, [.. eventHits]));
                }
            }
            // An EVTX rejection names its record; a line's is named by its line in the file.
            var rejections = evtx
                ? batch.Rejections.Select(r => r.Error).ToList()
                : [.. batch.Rejections.Select(r => $"{LineNumbers(chunk)[r.Index]}: {r.Error}")];
            return new ChunkResult(file, batch.Records, batch.Events.Count, alerts, rejections, [.. batch.Notices], hits, newest);
        }
    }

    private static long? RecordIdOf(EventView view) =>
        view.TryGetField(EventRecordId, out var value) && value.TryNumber(out var number) ? (long)number : null;

    /// <summary>The line in the file of each record (non-blank line) of a chunk.</summary>
    private static long[] LineNumbers(Chunk chunk)
    {
        var numbers = new List<long>();
        var line = chunk.FirstLine;
        var rest = chunk.Data.Span;
        while (!rest.IsEmpty)
        {
            var newline = rest.IndexOf((byte)'\n');
            var text = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? [] : rest[(newline + 1)..];
            line++;
            if (!text.Trim(" \t\r"u8).IsEmpty)
            {
                numbers.Add(line);
            }
        }
        return [.. numbers];
    }

    /// <summary>Lines of a file, or a part of an EVTX file (its header and a run of chunks, the first numbered <c>FirstChunk</c>).</summary>
    private sealed record Chunk(string File, long Number, ReadOnlyMemory<byte> Data, long FirstLine)
    {
        /// <summary>Marks the end of <see cref="File"/>: no data, its results all before it.</summary>
        public bool EndOfFile { get; init; }

        public InputFormat? Format { get; init; }

        public int FirstChunk { get; init; }
    }

    /// <summary>What the workers found in a chunk; <c>Hits</c> are the correlation matches per event, in file order.</summary>
    private sealed record ChunkResult(string File, long Records, long Events, List<Alert> Alerts, List<string> Rejections, List<string> Notices, List<(long TimestampMs, List<CorrelationHit> Hits)> Hits, long NewestMs)
    {
        public bool EndOfFile { get; private init; }

        public static ChunkResult FileEnd(string file) => new(file, 0, 0, [], [], [], [], long.MinValue) { EndOfFile = true };
    }

    private sealed class Counters
    {
        private readonly Dictionary<string, long> _byRule = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _byLevel = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _byFile = new(StringComparer.Ordinal);
        private long _records;
        private long _events;
        private long _alerts;

        public void Add(ChunkResult result)
        {
            _records += result.Records;
            _events += result.Events;
            foreach (var alert in result.Alerts)
            {
                Add(alert);
            }
        }

        public void Add(Alert alert)
        {
            _alerts++;
            _byRule[alert.Title] = _byRule.GetValueOrDefault(alert.Title) + 1;
            _byLevel[alert.Level] = _byLevel.GetValueOrDefault(alert.Level) + 1;
            if (alert.Events is [{ File: { } file }, ..])
            {
                _byFile[file] = _byFile.GetValueOrDefault(file) + 1;
            }
        }

        public HuntSummary ToSummary() => new(_records, _events, _records - _events, _alerts, _byRule, _byLevel, _byFile);
    }
}
