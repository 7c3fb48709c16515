using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using static Hydrant.Cli.Commands.ServerRequest;

namespace Hydrant.Cli.Commands;

/// <summary>
/// <c>hydrant alerts</c>: the running server's alerts, newest first; <c>alerts show ID</c> one
/// explained; <c>alerts ack ID</c> and <c>alerts close ID --resolution R</c> triage one.
/// </summary>
internal static class AlertsCommand
{
    public static Command Create()
    {
        var status = new Option<string?>("--status") { Description = "open, acknowledged or closed" };
        var rule = new Option<string?>("--rule") { Description = "A rule's id or exact title" };
        var level = new Option<string?>("--level") { Description = "informational, low, medium, high or critical" };
        var assignee = new Option<string?>("--assignee") { Description = "Who the alert is assigned to" };
        var limit = new Option<int>("--limit") { Description = "Most alerts to list", DefaultValueFactory = _ => 100 };
        var json = new Option<bool>("--json") { Description = "One alert JSON per line" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("alerts", "List, explain and triage the running server's alerts") { status, rule, level, assignee, limit, json, url, key, Show(), Ack(), Close() };
        command.SetAction((result, cancellationToken) =>
        {
            var path = new StringBuilder("v1/alerts?limit=").Append(Math.Clamp(result.GetValue(limit), 1, 10_000));
            foreach (var (name, option) in new[] { ("status", status), ("rule", rule), ("level", level), ("assignee", assignee) })
            {
                if (result.GetValue(option) is { Length: > 0 } value)
                {
                    path.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
                }
            }
            return ServerRequest.SendAsync(result, url, key, client => client.GetAsync(path.ToString(), cancellationToken), async answer =>
            {
                var alerts = answer.GetProperty("alerts").EnumerateArray().ToList();
                if (result.GetValue(json))
                {
                    foreach (var alert in alerts)
                    {
                        await Console.Out.WriteLineAsync(alert.GetRawText());
                    }
                    return;
                }
                TextTable.Write(["id", "level", "status", "count", "lastSeen", "title", "assignee"], alerts.Select(a => (IReadOnlyList<string>)
                    [Text(a, "id"), Text(a, "level"), Text(a, "status"), Text(a, "count"), Text(a, "lastSeen"), Text(a, "title"), Text(a, "assignee")]));
            }, cancellationToken);
        });
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("ID") { Description = "The alert's id" };
        var json = new Option<bool>("--json") { Description = "The server's answer as JSON" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("show", "One alert explained: its rule, history, events and what matched in each") { id, json, url, key };
        command.SetAction((result, cancellationToken) => ServerRequest.SendAsync(result, url, key,
            client => client.GetAsync("v1/alerts/" + Uri.EscapeDataString(result.GetValue(id)!), cancellationToken), async answer =>
            {
                if (result.GetValue(json))
                {
                    await Console.Out.WriteLineAsync(answer.GetRawText());
                    return;
                }
                var alert = answer.GetProperty("alert");
                var lines = new List<string>
                {
                    $"{Text(alert, "title")} ({Text(alert, "level")}): {Text(alert, "count")} events from {Text(alert, "firstSeen")} to {Text(alert, "lastSeen")}",
                    $"id:       {Text(alert, "id")}",
                    $"status:   {Text(alert, "status")}{(Text(alert, "resolution") is { Length: > 0 } r ? " (" + r + ")" : string.Empty)}, version {Text(alert, "version")}",
                    $"assignee: {Text(alert, "assignee")}",
                    $"group:    {Text(alert, "groupKey")}",
                };
                if (answer.GetProperty("rule") is { ValueKind: JsonValueKind.Object } ruleInfo)
                {
                    lines.Add($"rule:     {Text(ruleInfo, "id")}: {Text(ruleInfo, "description").ReplaceLineEndings(" ").Trim()}");
                }
                foreach (var change in alert.GetProperty("history").EnumerateArray())
                {
                    var what = change.GetProperty("changes").EnumerateObject().Select(p => $"{p.Name} {p.Value}")
                        .Concat(Text(change, "note") is { Length: > 0 } note ? [$"note {note}"] : []);
                    lines.Add($"  {Text(change, "at")} {Text(change, "by")}: {string.Join(", ", what)}");
                }
                lines.Add(string.Empty);
                foreach (var e in answer.GetProperty("events").EnumerateArray())
                {
                    var stored = e.GetProperty("event");
                    lines.Add(stored.ValueKind == JsonValueKind.Object
                        ? $"{Text(stored, "timestamp")}  {Text(stored, "eventType")}  {Text(stored, "sourceIP")}  {Text(e, "id")}"
                        : $"{Text(e, "id")} (no longer stored)");
                    foreach (var matched in e.GetProperty("matched").EnumerateArray())
                    {
                        var selections = matched.GetProperty("selections").EnumerateArray().Where(s => s.GetProperty("matched").GetBoolean())
                            .Select(s => $"{Text(s, "name")}: {string.Join(", ", s.GetProperty("fields").EnumerateObject().Select(f => $"{f.Name}={f.Value}"))}");
                        lines.Add($"    matched {Text(matched, "title")}: {string.Join("; ", selections)}");
                    }
                }
                if (answer.GetProperty("eventsNotShown").GetInt32() is > 0 and var notShown)
                {
                    lines.Add($"... and {notShown} more{(Text(answer, "more") is { Length: > 0 } more ? ": " + more : string.Empty)}");
                }
                await Console.Out.WriteLineAsync(string.Join('\n', lines));
            }, cancellationToken));
        return command;
    }

    private static Command Ack()
    {
        var id = new Argument<string>("ID") { Description = "The alert's id" };
        var assignee = new Option<string?>("--assignee") { Description = "Assign it too" };
        var note = new Option<string?>("--note") { Description = "A note kept in its history" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("ack", "Acknowledge an alert") { id, assignee, note, url, key };
        command.SetAction((result, cancellationToken) =>
            ChangeAsync(result, url, key, result.GetValue(id)!, new { status = "acknowledged", assignee = result.GetValue(assignee), note = result.GetValue(note) }, cancellationToken));
        return command;
    }

    private static Command Close()
    {
        var id = new Argument<string>("ID") { Description = "The alert's id" };
        var resolution = new Option<string>("--resolution") { Description = "true_positive, false_positive, benign or duplicate", Required = true };
        var note = new Option<string?>("--note") { Description = "A note kept in its history" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("close", "Close an alert with its resolution") { id, resolution, note, url, key };
        command.SetAction((result, cancellationToken) =>
            ChangeAsync(result, url, key, result.GetValue(id)!, new { status = "closed", resolution = result.GetValue(resolution), note = result.GetValue(note) }, cancellationToken));
        return command;
    }

    /// <summary>One triage change, sent with the version just read, so a change someone made in between is reported, not overwritten.</summary>
    private static Task<int> ChangeAsync(ParseResult result, Option<string> url, Option<string?> key, string id, object change, CancellationToken cancellationToken) =>
        ServerRequest.SendAsync(result, url, key, async client =>
        {
            using var current = await client.GetAsync("v1/alerts/" + Uri.EscapeDataString(id), cancellationToken);
            if (current.StatusCode != HttpStatusCode.OK)
            {
                return current;
            }
            using var read = JsonDocument.Parse(await current.Content.ReadAsStringAsync(cancellationToken));
            var body = JsonSerializer.SerializeToElement(change, JsonSerializerOptions.Web).EnumerateObject()
                .Where(p => p.Value.ValueKind != JsonValueKind.Null)
                .ToDictionary(p => p.Name, p => (object)p.Value);
            body["version"] = read.RootElement.GetProperty("alert").GetProperty("version").GetInt64();
            return await client.PatchOnceAsync("v1/alerts/" + Uri.EscapeDataString(id), body, cancellationToken);
        }, async alert => await Console.Out.WriteLineAsync($"{Text(alert, "id")}: {Text(alert, "status")}{(Text(alert, "resolution") is { Length: > 0 } r ? " (" + r + ")" : string.Empty)}, version {Text(alert, "version")}"),
        cancellationToken);
}
