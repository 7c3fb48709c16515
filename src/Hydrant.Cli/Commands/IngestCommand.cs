using System.CommandLine;
using System.Diagnostics;
using System.IO.Hashing;
using System.Net;
using System.Text.Json;
using Hydrant.Cli.Client;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Hydrant.Events.Formats.Evtx;
using Spectre.Console;

namespace Hydrant.Cli.Commands;

/// <summary>
/// Sends files (or standard input, "-") to a running server: line-delimited input in batches of
/// up to 4 MiB (two in flight), whole JSON documents (arrays, pretty-printed objects, CloudTrail
/// Records files) in one request. Lines are sent as the bytes they are, and numbered: each request
/// names the input by a hash of its first 64 KiB and says where in it its first line is, so the
/// ids the server derives for records without one are the same when the input is sent again
/// (stored once) while two identical lines stay two events. Rejections are reported as file:line
/// with the server's reason. An EVTX file (known by its signature, whatever --format says) is sent
/// as it is, in parts of whole chunks behind the file's header (<c>?format=evtx</c>); its records'
/// ids are their content, so sending it again, or another export holding the same records, stores
/// nothing twice.
/// </summary>
internal static class IngestCommand
{
    private const int BatchBytes = 4 * 1024 * 1024;
    private const int BatchLines = 10_000;
    private const int InFlight = 2;
    private const int RejectionsShown = 20;
    private const int HeadBytes = 64 * 1024;
    private const string StandardInput = "-";

    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "Files to ingest; - reads standard input", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format") { Description = "Input format: json (default), cloudtrail, zeek, syslog, web, windows; EVTX files are known by their signature", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong([.. Hydrant.Events.Formats.ParseOptions.Names]);
        var year = new Option<int?>("--year") { Description = "Year for syslog lines that carry none (RFC 3164)" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("ingest", "Send event files to a running Hydrant") { files, format, year, url, key };
        command.SetAction(async (result, cancellationToken) =>
        {
            var inputs = result.GetValue(files)!;
            var missing = inputs.FirstOrDefault(f => f != StandardInput && !File.Exists(f));
            if (missing is not null)
            {
                await Console.Error.WriteLineAsync($"hydrant: {Path.GetFullPath(missing)} does not exist");
                return ExitCodes.BadInput;
            }
            using var client = new HydrantClient(result.GetValue(url)!, CommonOptions.KeyValue(result, key));
            var run = new IngestRun(client, result.GetValue(format)!, result.GetValue(year)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var watch = Stopwatch.StartNew();
            try
            {
                await AnsiConsole.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        foreach (var input in inputs)
                        {
                            var name = input == StandardInput ? "stdin" : Path.GetFileName(input);
                            await using var stream = input == StandardInput
                                ? Console.OpenStandardInput()
                                : new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                            // A pipe, a FIFO or /dev/stdin has no length: the bar just runs.
                            var length = stream.CanSeek ? stream.Length : (long?)null;
                            var task = progress.AddTask(Markup.Escape(name), maxValue: Math.Max(length ?? 1, 1));
                            task.IsIndeterminate = length is null;
                            await run.SendAsync(name, stream, task, cancellationToken);
                            task.Value = task.MaxValue;
                            task.StopTask();
                        }
                    });
            }
            catch (IngestFailedException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: {e.Message}");
                return ExitCodes.Failure;
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: cannot reach {result.GetValue(url)}: {e.Message}");
                return ExitCodes.Failure;
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: cannot read the input: {e.Message}");
                return ExitCodes.Failure;
            }
            return run.Report(watch.Elapsed);
        });
        return command;
    }

    private sealed class IngestFailedException(string message) : Exception(message);

    private sealed class IngestRun(HydrantClient client, string format, string? year)
    {
        // --format is checked against the format names by the parser of the command line.
        private readonly InputFormat _inputFormat = ParseOptions.TryParseFormat(format, out var parsed) ? parsed : InputFormat.Json;
        private readonly Lock _gate = new();
        private readonly List<string> _rejections = [];
        private readonly List<string> _notices = [];
        private long _noticeCount;
        private long _accepted;
        private long _duplicates;
        private long _rejected;

        public async Task SendAsync(string name, Stream input, ProgressTask task, CancellationToken cancellationToken)
        {
            // The head decides how the input is read and names it; nothing is read twice, so pipes work.
            var head = new byte[HeadBytes];
            var headLength = await input.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
            if (EvtxFile.HasSignature(head.AsSpan(0, headLength)))
            {
                await SendEvtxAsync(name, head.AsMemory(0, headLength), input, task, cancellationToken);
                return;
            }
            if (FileShape.IsWholeDocument(head.AsSpan(0, headLength), _inputFormat))
            {
                var whole = await ReadWholeAsync(name, head.AsMemory(0, headLength), input, cancellationToken);
                await SendBatchAsync(name, whole, null, stream: null, position: 0, cancellationToken);
                return;
            }

            var streamName = "h:" + Convert.ToHexStringLower(XxHash128.Hash(head.AsSpan(0, headLength)));
            using var slots = new SemaphoreSlim(InFlight);
            var sends = new List<Task>();
            var batch = new MemoryStream(BatchBytes + 65536);
            var lines = new List<long>(BatchLines);
            long sent = 0;
            async Task FlushAsync()
            {
                await slots.WaitAsync(cancellationToken);
                sends.Add(SendAndReleaseAsync(name, batch, lines, streamName, sent, task, slots, cancellationToken));
                sent += lines.Count;
                batch = new MemoryStream(BatchBytes + 65536);
                lines = new List<long>(BatchLines);
            }
            await foreach (var (line, number) in LineReader.ReadAsync(head.AsMemory(0, headLength), input, cancellationToken))
            {
                if (FileShape.IsBlank(line.Span))
                {
                    continue;
                }
                batch.Write(line.Span);
                batch.WriteByte((byte)'\n');
                lines.Add(number);
                if (batch.Length >= BatchBytes || lines.Count >= BatchLines)
                {
                    await FlushAsync();
                }
            }
            if (lines.Count > 0)
            {
                await FlushAsync();
            }
            await Task.WhenAll(sends);
        }

        private async Task SendEvtxAsync(string name, ReadOnlyMemory<byte> head, Stream rest, ProgressTask task, CancellationToken cancellationToken)
        {
            using var slots = new SemaphoreSlim(InFlight);
            var sends = new List<Task>();
            await foreach (var (firstChunk, part) in EvtxFile.ReadPartsAsync(head, rest, BatchBytes, cancellationToken))
            {
                await slots.WaitAsync(cancellationToken);
                sends.Add(Task.Run(async () =>
                {
                    try
                    {
                        await SendBatchAsync(name, part, null, stream: null, position: firstChunk, cancellationToken, evtx: true);
                        task.Increment(part.Length - EvtxFile.HeaderSize);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, cancellationToken));
            }
            await Task.WhenAll(sends);
        }

        private static async Task<ReadOnlyMemory<byte>> ReadWholeAsync(string name, ReadOnlyMemory<byte> head, Stream rest, CancellationToken cancellationToken)
        {
            using var all = new MemoryStream();
            all.Write(head.Span);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await rest.ReadAsync(buffer, cancellationToken)) > 0)
            {
                all.Write(buffer, 0, read);
                if (all.Length > EventLimits.DefaultMaxBodyBytes)
                {
                    throw new IngestFailedException($"{name} is one JSON document of more than {EventLimits.DefaultMaxBodyBytes} bytes, over the request limit; convert it to NDJSON");
                }
            }
            return all.ToArray();
        }

        public int Report(TimeSpan elapsed)
        {
            foreach (var notice in _notices)
            {
                Console.Error.WriteLine(notice);
            }
            if (_noticeCount > _notices.Count)
            {
                Console.Error.WriteLine($"... and {_noticeCount - _notices.Count} more notices");
            }
            foreach (var rejection in _rejections)
            {
                Console.Error.WriteLine(rejection);
            }
            if (_rejected > _rejections.Count)
            {
                Console.Error.WriteLine($"... and {_rejected - _rejections.Count} more rejected");
            }
            var rate = _accepted / Math.Max(elapsed.TotalSeconds, 0.001);
            Console.WriteLine($"accepted {_accepted} (duplicates {_duplicates}), rejected {_rejected}, throttled {client.Throttled} times, in {elapsed.TotalSeconds:0.00} s ({rate:0} events/s)");
            return _rejected > 0 ? ExitCodes.BadInput : ExitCodes.Success;
        }

        private async Task SendAndReleaseAsync(string name, MemoryStream batch, List<long> lines, string stream, long position, ProgressTask task, SemaphoreSlim slots, CancellationToken cancellationToken)
        {
            try
            {
                await SendBatchAsync(name, batch.GetBuffer().AsMemory(0, (int)batch.Length), lines, stream, position, cancellationToken);
                task.Increment(batch.Length);
            }
            finally
            {
                slots.Release();
            }
        }

        private async Task SendBatchAsync(string name, ReadOnlyMemory<byte> body, List<long>? lines, string? stream, long position, CancellationToken cancellationToken, bool evtx = false)
        {
            using var response = evtx
                ? await client.PostEvtxAsync(body, firstChunk: position, cancellationToken)
                : await client.PostEventsAsync(body, format, year, stream, position, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new IngestFailedException($"{name}: the server answered {await HydrantClient.DescribeFailureAsync(response, cancellationToken)}");
            }
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            var root = answer.RootElement;
            lock (_gate)
            {
                _accepted += root.GetProperty("accepted").GetInt64();
                _duplicates += root.TryGetProperty("duplicates", out var d) ? d.GetInt64() : 0;
                foreach (var rejection in root.GetProperty("rejected").EnumerateArray())
                {
                    _rejected++;
                    if (_rejections.Count < RejectionsShown)
                    {
                        var index = rejection.GetProperty("index").GetInt32();
                        // An EVTX record's error names the record and its chunk already.
                        var where = evtx ? name : lines is not null && index < lines.Count ? $"{name}:{lines[index]}" : $"{name} record {index}";
                        _rejections.Add($"{where}: {rejection.GetProperty("error").GetString()}");
                    }
                }
                if (root.TryGetProperty("notices", out var notices))
                {
                    foreach (var notice in notices.EnumerateArray())
                    {
                        _noticeCount++;
                        if (_notices.Count < RejectionsShown)
                        {
                            _notices.Add($"{name}: notice: {notice.GetString()}");
                        }
                    }
                }
            }
        }
    }
}
