using System.Globalization;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Server.Auth;
using Hydrant.Storage;

namespace Hydrant.Server.Api;

public static class AlertEndpoints
{
    public static void MapAlerts(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/alerts", QueryAsync)
            .Takes("from", "to", "rule", "level", "sourceIP", "status", "assignee", "limit", "cursor")
            .RequireScope(Scopes.Query)
            .WithName("QueryAlerts")
            .Answers<AlertPageAnswer>(problems: StatusCodes.Status400BadRequest)
            .WithSummary("Alerts, newest first; from/to select alerts whose events fall in [from, to); rule is an id or the exact title; sourceIP one of the alert's events' sources; status and assignee as triaged");
        app.MapPatch("/v1/alerts/{id}", TriageAsync)
            .Takes()
            .RequireScope(Scopes.Triage)
            .WithName("TriageAlert")
            .Reads<TriageChange>("application/json")
            .Answers<Alert>(problems: [StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge])
            .Produces<TriageConflict>(StatusCodes.Status409Conflict, "application/problem+json")
            .WithSummary("Change an alert's status (open, acknowledged, closed with a resolution), assignee or add a note; send the version you saw (If-Match or \"version\") and a change since is a 409");
        app.MapGet("/v1/alerts/{id}", ExplainAsync)
            .Takes()
            .RequireScope(Scopes.Query)
            .WithName("ExplainAlert")
            .Answers<AlertExplanation>(problems: StatusCodes.Status404NotFound)
            .WithSummary("One alert explained: the alert, its rule (description, ATT&CK, YAML), the stored JSON of each event it keeps (up to 100) and which selections and field values made each match; `more` queries the events beyond those kept");
        app.MapGet("/v1/alerts/stream", StreamAsync)
            .Takes()
            .RequireScope(Scopes.Query)
            .WithName("AlertStream")
            .Answers<string>(contentType: "text/event-stream")
            .WithSummary("Server-Sent Events: one alert JSON per data: line, as alerts fire or update");
    }

    private static async Task QueryAsync(HttpContext context, IAlertView store, IAlertTriage triage)
    {
        var q = context.Request.Query;
        long? from = null, to = null;
        if ((QueryTime.Read(q, "from", ref from) ?? QueryTime.Read(q, "to", ref to)) is { } timeError)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad query", timeError);
            return;
        }
        var limit = 100;
        if (q["limit"].ToString() is { Length: > 0 } limitText &&
            (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 10_000))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad query", "limit: must be a whole number from 1 to 10000");
            return;
        }
        var level = q["level"].ToString();
        if (level.Length > 0 && !SigmaLevels.IsLevel(level))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad query", "level: one of " + SigmaLevels.Listed);
            return;
        }
        var status = q["status"].ToString() is { Length: > 0 } s ? s : null;
        if (status is not null && !AlertStatus.All.Contains(status))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad query", "status: one of " + string.Join(", ", AlertStatus.All));
            return;
        }
        var assignee = q["assignee"].ToString() is { Length: > 0 } a ? a : null;
        var cursor = q["cursor"].ToString();
        var query = new AlertQuery
        {
            FromMs = from,
            ToMs = to,
            Rule = q["rule"].ToString() is { Length: > 0 } rule ? rule : null,
            SourceIP = q["sourceIP"].ToString() is { Length: > 0 } source ? (Hydrant.Events.SourceAddress.TryNormalizeIp(source, out var ip) ? ip : source) : null,
            Level = level.Length > 0 ? level : null,
            Limit = limit,
            AfterId = cursor.Length > 0 ? cursor : null,
        };
        AlertPage page;
        if (status is null && assignee is null)
        {
            var plain = await store.QueryAsync(query, context.RequestAborted);
            page = new AlertPage(await WithTriageAsync(plain.Alerts, triage, context.RequestAborted), plain.NextId);
        }
        else
        {
            page = await TriagedAsync(store, triage, query, a => (status is null || a.Status == status) && (assignee is null || a.Assignee == assignee), context.RequestAborted);
        }
        await context.Response.WriteAsJsonAsync(new AlertPageAnswer(page.Alerts, page.NextId), ApiJson.Options, context.RequestAborted);
    }

    private static async Task<IReadOnlyList<Alert>> WithTriageAsync(IReadOnlyList<Alert> alerts, IAlertTriage triage, CancellationToken cancellationToken)
    {
        var states = await triage.GetAsync([.. alerts.Select(a => a.Id)], cancellationToken);
        return [.. alerts.Select(a => a.With(states.GetValueOrDefault(a.Id)))];
    }

    /// <summary>
    /// Status and assignee live with the triage, not the stored alert: pages are read and filtered
    /// until this one is full, or <see cref="AlertQuery.MaxExaminedPerPage"/> alerts were read (then
    /// it ends early with a cursor that goes on).
    /// </summary>
    private static async Task<AlertPage> TriagedAsync(IAlertView store, IAlertTriage triage, AlertQuery query, Func<Alert, bool> wanted, CancellationToken cancellationToken)
    {
        var found = new List<Alert>(Math.Min(query.Limit, 1024));
        var examined = 0;
        for (var cursor = query.AfterId; ;)
        {
            var page = await store.QueryAsync(query with { Limit = 500, AfterId = cursor }, cancellationToken);
            foreach (var alert in await WithTriageAsync(page.Alerts, triage, cancellationToken))
            {
                examined++;
                if (wanted(alert))
                {
                    found.Add(alert);
                }
                if (found.Count == query.Limit || examined == AlertQuery.MaxExaminedPerPage)
                {
                    return new AlertPage(found, alert.Id);
                }
            }
            if (page.NextId is null)
            {
                return new AlertPage(found, null);
            }
            cursor = page.NextId;
        }
    }

    private const int MaxTriageBytes = 16 * 1024;
    private static readonly string[] TriageFields = ["status", "resolution", "assignee", "note", "version"];

    private static async Task<IResult> TriageAsync(string id, HttpContext context, IAlertView alerts, IAlertTriage triage, AlertFeed feed, TimeProvider time)
    {
        var bytes = new byte[MaxTriageBytes + 1];
        var length = 0;
        for (int read; length < bytes.Length && (read = await context.Request.Body.ReadAsync(bytes.AsMemory(length), context.RequestAborted)) > 0;)
        {
            length += read;
        }
        if (length > MaxTriageBytes)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "body too large", $"a triage change is at most {MaxTriageBytes} bytes");
        }
        JsonElement body;
        try
        {
            using var document = JsonDocument.Parse(bytes.AsMemory(0, length));
            body = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "unreadable body", "a JSON object of status, resolution, assignee, note, version: " + e.Message);
        }
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad change", "the body is a JSON object of status, resolution, assignee, note, version");
        }
        foreach (var field in body.EnumerateObject())
        {
            if (!TriageFields.Contains(field.Name, StringComparer.Ordinal))
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "bad change", $"unknown field '{field.Name}'; a change has {string.Join(", ", TriageFields)}");
            }
            if (field.Name != "version" && field.Value.ValueKind != JsonValueKind.String)
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "bad change", $"{field.Name}: must be a string");
            }
        }
        string? Text(string name) => body.TryGetProperty(name, out var v) ? v.GetString() : null;
        var (status, resolution, assignee, note) = (Text("status"), Text("resolution"), Text("assignee"), Text("note"));
        if (ExpectedVersion(context, body, out var expected) is { } versionError)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad change", versionError);
        }
        if (await alerts.GetAsync(id, context.RequestAborted) is not { } alert)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "not found", $"no alert has id '{id}'");
        }
        var refusal = (status, resolution, assignee, note) switch
        {
            (null, null, null, null) => "nothing to change: send status, resolution, assignee or note",
            ({ } s, _, _, _) when !AlertStatus.All.Contains(s) => $"status: one of {string.Join(", ", AlertStatus.All)}",
            (_, { } r, _, _) when !AlertStatus.Resolutions.Contains(r) => $"resolution: one of {string.Join(", ", AlertStatus.Resolutions)}",
            (AlertStatus.Closed, null, _, _) => $"closing needs a resolution: one of {string.Join(", ", AlertStatus.Resolutions)}",
            (_, _, { Length: > AlertStatus.MaxAssigneeChars }, _) => $"assignee: at most {AlertStatus.MaxAssigneeChars} characters",
            (_, _, _, { Length: > AlertStatus.MaxNoteChars }) => $"note: at most {AlertStatus.MaxNoteChars} characters",
            _ => null,
        };
        if (refusal is not null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad change", refusal);
        }
        var by = context.Items[ApiKey.ContextItem] is ApiKey key ? key.Name : "open";
        var change = AlertChange.Of(Timestamps.ToText(time.GetUtcNow().ToUnixTimeMilliseconds()), by, status, resolution, assignee, note);
        var result = await triage.ChangeAsync(id, expected, change, context.RequestAborted);
        var changed = alert.With(result.State);
        context.Response.Headers.ETag = $"\"{changed.Version.ToString(CultureInfo.InvariantCulture)}\"";
        if (result.Conflict)
        {
            return Results.Json(new TriageConflict("changed since", $"the alert is at version {changed.Version}, not {expected}; read it again", StatusCodes.Status409Conflict, changed),
                ApiJson.Options, "application/problem+json", StatusCodes.Status409Conflict);
        }
        if (result.Refusal is { } refused)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad change", refused);
        }
        feed.Publish(changed);
        return Results.Json(changed, ApiJson.Options);
    }

    /// <summary>The version the client saw, from If-Match ("3", W/"3" or 3) or the body's "version"; both must agree.</summary>
    private static string? ExpectedVersion(HttpContext context, JsonElement body, out long? expected)
    {
        expected = null;
        var header = context.Request.Headers.IfMatch.ToString().Trim();
        long? fromHeader = null;
        if (header.Length > 0)
        {
            var text = header.StartsWith("W/", StringComparison.Ordinal) ? header[2..] : header;
            if (!long.TryParse(text.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var h))
            {
                return "If-Match: the alert's version, as its ETag gives it";
            }
            fromHeader = h;
        }
        long? fromBody = null;
        if (body.TryGetProperty("version", out var v))
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var b) || b < 0)
            {
                return "version: the alert's version, a whole number";
            }
            fromBody = b;
        }
        if (fromHeader is not null && fromBody is not null && fromHeader != fromBody)
        {
            return "If-Match and version name different versions";
        }
        expected = fromHeader ?? fromBody;
        return null;
    }

    private static async Task<IResult> ExplainAsync(string id, IAlertView alerts, IAlertTriage triage, IEventStore events, RuleRegistry registry, CancellationToken cancellationToken)
    {
        if (await alerts.GetAsync(id, cancellationToken) is not { } stored)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "not found", $"no alert has id '{id}'");
        }
        var alert = stored.With((await triage.GetAsync([id], cancellationToken)).GetValueOrDefault(id));
        var rules = await registry.LookupAsync(cancellationToken);
        var explained = new ExplainedEvent[alert.Events.Count];
        await Parallel.ForAsync(0, alert.Events.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var e = alert.Events[i];
            var ms = Timestamps.ParseCanonical(e.Timestamp);
            // Its own millisecond is the whole range: one month of ids is asked.
            var json = await events.GetAsync(e.Id, ms, ms + 1, ct);
            explained[i] = new ExplainedEvent(
                e.Id,
                json is { } stored ? StoredEvent.Read(stored.Span) : null,
                json is { } bytes ? MatchExplainer.Explain(rules, alert.RuleId, bytes) : []);
        });
        var sources = alert.Events.Select(e => e.SourceIP).Distinct(StringComparer.Ordinal).ToList();
        var notShown = Math.Max(0, alert.Count - alert.Events.Count);
        var more = notShown > 0 && sources.Count == 1
            ? string.Create(CultureInfo.InvariantCulture, $"/v1/events?sourceIP={Uri.EscapeDataString(sources[0])}&from={Uri.EscapeDataString(alert.FirstSeen)}&to={Uri.EscapeDataString(Timestamps.ToText(Timestamps.ParseCanonical(alert.LastSeen) + 1))}")
            : null;
        return Results.Json(new AlertExplanation(alert, RuleEndpoints.DescribeOne(rules, alert.RuleId), explained, notShown, more), ApiJson.Options);
    }

    private static async Task StreamAsync(HttpContext context, AlertFeed feed, IAlertTriage triage)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var alerts = feed.Subscribe(context.RequestAborted, withRelayed: true);
        // A comment line first, so clients see the stream open before the first alert.
        await context.Response.WriteAsync(": hydrant alert stream\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        try
        {
            while (await alerts.WaitToReadAsync(context.RequestAborted))
            {
                // Everything waiting goes out in one flush: a burst costs one write, not one per
                // alert, and one read of its triage (the detector's versions do not carry it).
                var waiting = new List<Alert>();
                while (alerts.TryRead(out var alert))
                {
                    waiting.Add(alert);
                }
                foreach (var alert in await WithTriageAsync(waiting, triage, context.RequestAborted))
                {
                    await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(alert, ApiJson.Options) + "\n\n", context.RequestAborted);
                }
                if (alerts.TakeDropped() is > 0 and var dropped)
                {
                    // A comment, which EventSource clients skip: every data line stays one alert.
                    await context.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                        $": dropped {dropped} alerts this stream fell too far behind for; GET /v1/alerts has them\n\n"), context.RequestAborted);
                }
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }
}
