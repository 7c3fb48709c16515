using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Hydrant.Cli.Client;
using Spectre.Console;

namespace Hydrant.Cli.Commands;

/// <summary>Historical query against a running server: a table, or the events as NDJSON with --json.</summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var ip = new Option<string?>("--ip") { Description = "Source IP (or source name)" };
        var type = new Option<string?>("--type") { Description = "Event type" };
        var from = new Option<string?>("--from") { Description = "Start, inclusive: RFC 3339 or epoch ms (default: 24 h ago)" };
        var to = new Option<string?>("--to") { Description = "End, exclusive: RFC 3339 or epoch ms (default: now)" };
        var limit = new Option<int>("--limit") { Description = "Most events to return", DefaultValueFactory = _ => 100 };
        var json = new Option<bool>("--json") { Description = "Print the events as NDJSON" };
        var where = new Option<string[]>("--where") { Description = "NAME=VALUE: only events whose field NAME (dotted for nested fields) is VALUE (* and ? wildcards, case-insensitive); repeat for more, all must hold", AllowMultipleArgumentsPerToken = false };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("query", "Query stored events, newest first") { ip, type, from, to, limit, where, json, url, key };
        command.SetAction(async (result, cancellationToken) =>
        {
            var wanted = result.GetValue(limit);
            var conditions = result.GetValue(where) ?? [];
            if (conditions.FirstOrDefault(c => c.IndexOf('=', StringComparison.Ordinal) <= 0) is { } bad)
            {
                await Console.Error.WriteLineAsync($"hydrant: --where '{bad}' is not NAME=VALUE");
                return ExitCodes.BadInput;
            }
            if (wanted < 1)
            {
                await Console.Error.WriteLineAsync("hydrant: --limit must be at least 1");
                return ExitCodes.BadInput;
            }
            using var client = new HydrantClient(result.GetValue(url)!, CommonOptions.KeyValue(result, key));
            var events = new List<JsonElement>();
            string? cursor = null;
            try
            {
                do
                {
                    var path = BuildPath(result.GetValue(ip), result.GetValue(type), result.GetValue(from), result.GetValue(to), Math.Min(wanted - events.Count, 10_000), cursor, conditions);
                    using var response = await client.GetAsync(path, cancellationToken);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        return await HydrantClient.ReportFailureAsync(response, cancellationToken);
                    }
                    using var page = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
                    events.AddRange(page.RootElement.GetProperty("events").EnumerateArray().Select(e => e.Clone()));
                    cursor = page.RootElement.GetProperty("next").GetString();
                }
                while (cursor is not null && events.Count < wanted);
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: cannot reach {result.GetValue(url)}: {e.Message}");
                return ExitCodes.Failure;
            }
            catch (JsonException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: the server's answer is not the expected JSON: {e.Message}");
                return ExitCodes.Failure;
            }

            if (result.GetValue(json))
            {
                var stdout = Console.Out;
                foreach (var e in events)
                {
                    await stdout.WriteLineAsync(e.GetRawText());
                }
                return ExitCodes.Success;
            }
            TextTable.Write(["timestamp", "eventType", "sourceIP", "id"], events.Select(e => (IReadOnlyList<string>)[Cell(e, "timestamp"), Cell(e, "eventType"), Cell(e, "sourceIP"), Cell(e, "id")]));
            if (!Console.IsOutputRedirected)
            {
                AnsiConsole.WriteLine($"{events.Count} events");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Cell(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : string.Empty;

    private static string BuildPath(string? ip, string? type, string? from, string? to, int limit, string? cursor, IEnumerable<string> conditions)
    {
        var path = new StringBuilder("v1/events?limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                path.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }
        Add("sourceIP", ip);
        Add("eventType", type);
        Add("from", from);
        Add("to", to);
        Add("cursor", cursor);
        foreach (var condition in conditions)
        {
            var at = condition.IndexOf('=', StringComparison.Ordinal);
            Add("field." + Uri.EscapeDataString(condition[..at]), condition[(at + 1)..]);
        }
        return path.ToString();
    }
}
