using System.Globalization;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Events;
using Hydrant.Server.Auth;
using Hydrant.Storage;

namespace Hydrant.Server.Api;

public static class AlertEndpoints
{
    public static void MapAlerts(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/alerts", QueryAsync)
            .Takes("from", "to", "rule", "level", "sourceIP", "limit", "cursor")
            .RequireScope(Scopes.Query)
            .WithName("QueryAlerts")
            .WithSummary("Alerts, newest first; from/to select alerts whose events fall in [from, to); rule is an id or the exact title; sourceIP one of the alert's events' sources");
        app.MapGet("/v1/alerts/{id}", ExplainAsync)
            .Takes()
            .RequireScope(Scopes.Query)
            .WithName("ExplainAlert")
            .WithSummary("One alert explained: the alert, its rule (description, ATT&CK, YAML), the stored JSON of each event it keeps (up to 100) and which selections and field values made each match; `more` queries the events beyond those kept");
        app.MapGet("/v1/alerts/stream", StreamAsync)
            .Takes()
            .RequireScope(Scopes.Query)
            .WithName("AlertStream")
            .WithSummary("Server-Sent Events: one alert JSON per data: line, as alerts fire or update");
    }

    private static async Task QueryAsync(HttpContext context, IAlertView store)
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
        if (level.Length > 0 && level is not ("informational" or "low" or "medium" or "high" or "critical"))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad query", "level: one of informational, low, medium, high, critical");
            return;
        }
        var cursor = q["cursor"].ToString();
        var page = await store.QueryAsync(new AlertQuery
        {
            FromMs = from,
            ToMs = to,
            Rule = q["rule"].ToString() is { Length: > 0 } rule ? rule : null,
            SourceIP = q["sourceIP"].ToString() is { Length: > 0 } source ? (Hydrant.Events.SourceAddress.TryNormalizeIp(source, out var ip) ? ip : source) : null,
            Level = level.Length > 0 ? level : null,
            Limit = limit,
            AfterId = cursor.Length > 0 ? cursor : null,
        }, context.RequestAborted);
        await context.Response.WriteAsJsonAsync(new { alerts = page.Alerts, next = page.NextId }, ApiJson.Options, context.RequestAborted);
    }

    private static async Task<IResult> ExplainAsync(string id, IAlertView alerts, IEventStore events, RuleRegistry registry, CancellationToken cancellationToken)
    {
        if (await alerts.GetAsync(id, cancellationToken) is not { } alert)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "not found", $"no alert has id '{id}'");
        }
        var rules = await registry.LookupAsync(cancellationToken);
        var explained = new object[alert.Events.Count];
        await Parallel.ForAsync(0, alert.Events.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var e = alert.Events[i];
            var ms = Timestamps.ParseCanonical(e.Timestamp);
            // Its own millisecond is the whole range: one month of ids is asked.
            var json = await events.GetAsync(e.Id, ms, ms + 1, ct);
            explained[i] = new
            {
                id = e.Id,
                @event = json is { } stored ? JsonDocument.Parse(stored).RootElement : (JsonElement?)null,
                matched = json is { } bytes ? MatchExplainer.Explain(rules, alert.RuleId, bytes) : [],
            };
        });
        var sources = alert.Events.Select(e => e.SourceIP).Distinct(StringComparer.Ordinal).ToList();
        var notShown = Math.Max(0, alert.Count - alert.Events.Count);
        var more = notShown > 0 && sources.Count == 1
            ? string.Create(CultureInfo.InvariantCulture, $"/v1/events?sourceIP={Uri.EscapeDataString(sources[0])}&from={Uri.EscapeDataString(alert.FirstSeen)}&to={Uri.EscapeDataString(Timestamps.ToText(Timestamps.ParseCanonical(alert.LastSeen) + 1))}")
            : null;
        return Results.Json(new { alert, rule = RuleEndpoints.DescribeOne(rules, alert.RuleId), events = explained, eventsNotShown = notShown, more }, ApiJson.Options);
    }

    private static async Task StreamAsync(HttpContext context, AlertFeed feed)
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
                // Everything waiting goes out in one flush: a burst costs one write, not one per alert.
                while (alerts.TryRead(out var alert))
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
