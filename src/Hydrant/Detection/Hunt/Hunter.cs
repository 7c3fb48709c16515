using System.Buffers;
using System.Threading.Channels;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Hydrant.Events.Formats.Evtx;

namespace Hydrant.Detection.Hunt;

/// <summary>What one hunt found and read.</summary>
public sealed record HuntSummary(long Records, long Events, long Rejected, long Alerts, IReadOnlyDictionary<string, long> ByRule, IReadOnlyDictionary<string, long> ByLevel);

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
    private const int WholeDocumentLimit = 256 * 1024 * 1024;

    public int Workers { get; init; } = Environment.ProcessorCount;

    public async Task<HuntSummary> RunAsync(IEnumerable<string> files, Func<Alert, ValueTask> emit, Action<string>? reject, CancellationToken cancellationToken)
    {
        var summary = new Counters();
        _correlations.Use(rules.Plan);
        foreach (var file in files)
        {
            await HuntFileAsync(file, summary, emit, reject, cancellationToken);
        }
        var firings = new List<CorrelationFiring>();
        _correlations.Flush(firings);
        await EmitAsync(firings, summary, emit);
        return summary.ToSummary();
    }

    private async Task HuntFileAsync(string file, Counters summary, Func<Alert, ValueTask> emit, Action<string>? reject, CancellationToken cancellationToken)
    {
        var chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(Workers * 2) { SingleWriter = true });
        var results = Channel.CreateBounded<(long Number, ChunkResult Result)>(new BoundedChannelOptions(Workers * 2) { SingleReader = true });

        var reader = Task.Run(() => ReadChunksAsync(file, chunks.Writer, cancellationToken), cancellationToken);
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            await foreach (var chunk in chunks.Reader.ReadAllAsync(cancellationToken))
            {
                await results.Writer.WriteAsync((chunk.Number, Evaluate(chunk)), cancellationToken);
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
                summary.Add(ready);
                foreach (var line in ready.Rejections)
                {
                    reject?.Invoke($"{file}:{line}");
                }
                foreach (var alert in ready.Alerts)
                {
                    await emit(alert);
                }
                await CorrelateAsync(ready, summary, emit);
                next++;
            }
        }
        await reader;
        await closer;
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

    private async Task ReadChunksAsync(string file, ChannelWriter<Chunk> chunks, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            var head = new byte[64 * 1024];
            var headLength = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
            stream.Position = 0;
            if (EvtxFile.HasSignature(head.AsSpan(0, headLength)))
            {
                // An EVTX file, whatever the format says: its records as Windows JSON lines.
                if (stream.Length > WholeDocumentLimit)
                {
                    throw new InvalidDataException($"{file} is an EVTX file of {stream.Length} bytes, more than {WholeDocumentLimit} read at once");
                }
                var evtx = EvtxFile.Open(await File.ReadAllBytesAsync(file, cancellationToken), out var error) ?? throw new InvalidDataException($"{file}: {error}");
                var lines = new ArrayBufferWriter<byte>();
                var unreadable = new List<string>();
                EvtxJson.WriteNdjson(evtx, lines, unreadable);
                await chunks.WriteAsync(new Chunk(0, lines.WrittenSpan.ToArray(), 0) { Format = InputFormat.Windows, Unreadable = unreadable }, cancellationToken);
                return;
            }
            if (FileShape.IsWholeDocument(head.AsSpan(0, headLength), options.Format))
            {
                if (stream.Length > WholeDocumentLimit)
                {
                    throw new InvalidDataException($"{file} is one JSON document of {stream.Length} bytes; convert it to one record per line");
                }
                await chunks.WriteAsync(new Chunk(0, await File.ReadAllBytesAsync(file, cancellationToken), 0), cancellationToken);
                return;
            }
            var number = 0L;
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
                        return;
                    }
                    Array.Resize(ref buffer, buffer.Length * 2); // one line longer than a chunk
                    continue;
                }
                var data = buffer.AsSpan(0, end).ToArray();
                await chunks.WriteAsync(new Chunk(number++, data, firstLine), cancellationToken);
                firstLine += data.AsSpan().Count((byte)'\n');
                buffer.AsSpan(end, filled - end).CopyTo(buffer);
                filled -= end;
            }
        }
        finally
        {
            chunks.TryComplete();
        }
    }

    private ChunkResult Evaluate(Chunk chunk)
    {
        ParsedBatch batch;
        try
        {
            batch = parser.Parse(chunk.Data, chunk.Format is { } format ? options with { Format = format } : options);
        }
        catch (EventParser.UnreadableBodyException)
        {
            return new ChunkResult(chunk.Unreadable.Count, 0, [], [.. chunk.Unreadable], [], long.MinValue); // only blank lines
        }
        using (batch)
        {
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
                if (rules.Evaluate(view, e.Envelope, matched, eventHits) is not { } behind)
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
            // Record indexes count non-blank lines; report the line within the file.
            var rejections = batch.Rejections.Select(r => $"{LineOf(chunk, r.Index)}: {r.Error}").Concat(chunk.Unreadable).ToList();
            return new ChunkResult(batch.Records + chunk.Unreadable.Count, batch.Events.Count, alerts, rejections, hits, newest);
        }
    }

    private static long LineOf(Chunk chunk, int recordIndex)
    {
        var line = chunk.FirstLine;
        var seen = -1;
        var rest = chunk.Data.AsSpan();
        while (!rest.IsEmpty)
        {
            var newline = rest.IndexOf((byte)'\n');
            var text = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? [] : rest[(newline + 1)..];
            line++;
            if (!text.Trim(" \t\r"u8).IsEmpty && ++seen == recordIndex)
            {
                return line;
            }
        }
        return line;
    }

    /// <summary>Lines of a file; an EVTX file's records come as Windows JSON lines, with the records it could not read.</summary>
    private sealed record Chunk(long Number, byte[] Data, long FirstLine)
    {
        public InputFormat? Format { get; init; }

        public List<string> Unreadable { get; init; } = [];
    }

    /// <summary>What the workers found in a chunk; <c>Hits</c> are the correlation matches per event, in file order.</summary>
    private sealed record ChunkResult(long Records, long Events, List<Alert> Alerts, List<string> Rejections, List<(long TimestampMs, List<CorrelationHit> Hits)> Hits, long NewestMs);

    private sealed class Counters
    {
        private readonly Dictionary<string, long> _byRule = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _byLevel = new(StringComparer.Ordinal);
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
        }

        public HuntSummary ToSummary() => new(_records, _events, _records - _events, _alerts, _byRule, _byLevel);
    }
}
