using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Hydrant.Cli.Client;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Spectre.Console;

namespace Hydrant.Cli.Commands;

/// <summary>
/// Sends files to a running server: line-delimited files in batches of up to 4 MiB (two in
/// flight), whole JSON documents (arrays, pretty-printed objects, CloudTrail Records files) in
/// one request. Rejections are reported as file:line with the server's reason.
/// </summary>
internal static class IngestCommand
{
    private const int BatchBytes = 4 * 1024 * 1024;
    private const int BatchLines = 10_000;
    private const int InFlight = 2;
    private const int RejectionsShown = 20;

    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("FILE") { Description = "Files to ingest", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format") { Description = "Input format: json (default), cloudtrail, zeek, syslog, web", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong([.. Hydrant.Events.Formats.ParseOptions.Names]);
        var year = new Option<int?>("--year") { Description = "Year for syslog lines that carry none (RFC 3164)" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("ingest", "Send event files to a running Hydrant") { files, format, year, url, key };
        command.SetAction(async (result, cancellationToken) =>
        {
            var inputs = result.GetValue(files)!;
            var missing = inputs.FirstOrDefault(f => !f.Exists);
            if (missing is not null)
            {
                await Console.Error.WriteLineAsync($"hydrant: {missing.FullName} does not exist");
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
                        foreach (var file in inputs)
                        {
                            var task = progress.AddTask(Markup.Escape(file.Name), maxValue: Math.Max(file.Length, 1));
                            await run.SendFileAsync(file, task, cancellationToken);
                            task.Value = task.MaxValue;
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
        private long _accepted;
        private long _duplicates;
        private long _rejected;

        public async Task SendFileAsync(FileInfo file, ProgressTask task, CancellationToken cancellationToken)
        {
            await using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            if (await FileShape.IsWholeDocumentAsync(stream, _inputFormat, cancellationToken))
            {
                if (file.Length > EventLimits.DefaultMaxBodyBytes)
                {
                    throw new IngestFailedException($"{file.Name} is one JSON document of {file.Length} bytes, over the request limit; convert it to NDJSON");
                }
                var all = await File.ReadAllBytesAsync(file.FullName, cancellationToken);
                await SendAsync(file.Name, all, null, cancellationToken);
                return;
            }

            using var slots = new SemaphoreSlim(InFlight);
            var sends = new List<Task>();
            var batch = new MemoryStream(BatchBytes + 65536);
            var lines = new List<long>(BatchLines);
            long lineNumber = 0;
            using var reader = new StreamReader(stream, leaveOpen: true);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }
                var bytes = System.Text.Encoding.UTF8.GetBytes(line);
                batch.Write(bytes);
                batch.WriteByte((byte)'\n');
                lines.Add(lineNumber);
                if (batch.Length >= BatchBytes || lines.Count >= BatchLines)
                {
                    await slots.WaitAsync(cancellationToken);
                    sends.Add(SendAndReleaseAsync(file.Name, batch, lines, task, slots, cancellationToken));
                    batch = new MemoryStream(BatchBytes + 65536);
                    lines = new List<long>(BatchLines);
                }
            }
            if (lines.Count > 0)
            {
                await slots.WaitAsync(cancellationToken);
                sends.Add(SendAndReleaseAsync(file.Name, batch, lines, task, slots, cancellationToken));
            }
            await Task.WhenAll(sends);
        }

        public int Report(TimeSpan elapsed)
        {
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

        private async Task SendAndReleaseAsync(string name, MemoryStream batch, List<long> lines, ProgressTask task, SemaphoreSlim slots, CancellationToken cancellationToken)
        {
            try
            {
                await SendAsync(name, batch.GetBuffer().AsMemory(0, (int)batch.Length), lines, cancellationToken);
                task.Increment(batch.Length);
            }
            finally
            {
                slots.Release();
            }
        }

        private async Task SendAsync(string name, ReadOnlyMemory<byte> body, List<long>? lines, CancellationToken cancellationToken)
        {
            using var response = await client.PostEventsAsync(body, format, year, cancellationToken);
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
                        var where = lines is not null && index < lines.Count ? $"{name}:{lines[index]}" : $"{name} record {index}";
                        _rejections.Add($"{where}: {rejection.GetProperty("error").GetString()}");
                    }
                }
            }
        }
    }
}
