using System.Globalization;
using System.Text.Json;
using Hydrant.Events;
using Hydrant.Query;
using Hydrant.Server.Auth;
using Hydrant.Storage;

namespace Hydrant.Server.Api;

public static class QueryEndpoints
{
    public static void MapQuery(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/events", QueryAsync)
            .Takes("sourceIP", "eventType", "from", "to", "limit", "cursor", "explain")
            .RequireScope(Scopes.Query)
            .WithName("QueryEvents")
            .WithSummary("Historical events, newest first, from inclusive, to exclusive (default: the last 24 h)");
        app.MapGet("/v1/events/{id}", GetAsync)
            .Takes()
            .RequireScope(Scopes.Query)
            .WithName("GetEvent")
            .WithSummary("One stored event by its id, as stored; 404 when no kept event has that id");
    }

    private static async Task GetAsync(HttpContext context, string id, IEventStore store, StoreOptions options, EventLimits limits, TimeProvider time)
    {
        if (id.Length > EventLimits.MaxFieldChars)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad id", $"an id has at most {EventLimits.MaxFieldChars} characters");
            return;
        }
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var toMs = nowMs + (long)limits.MaxFutureSkew.TotalMilliseconds + 1;
        if (await store.GetAsync(id, QueryPlanner.OldestKeptMs(nowMs, options.Retention), toMs, context.RequestAborted) is not { } json)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, "not found", $"no kept event has id '{id}'");
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    private static async Task QueryAsync(HttpContext context, IEventStore store, StoreOptions options, EventLimits limits, TimeProvider time)
    {
        var q = context.Request.Query;
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var error = Build(q, nowMs, limits, out var query, out var explain);
        if (error is not null)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad query", error);
            return;
        }
        var plan = QueryPlanner.Plan(query, nowMs, options.Retention);
        var page = await store.QueryAsync(query, plan, context.RequestAborted);

        context.Response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteStartArray("events");
            foreach (var e in page.Events)
            {
                json.WriteRawValue(e.Span, skipInputValidation: true);
            }
            json.WriteEndArray();
            if (page.NextSortKey is null)
            {
                json.WriteNull("next");
            }
            else
            {
                json.WriteString("next", Cursor.Encode(page.NextSortKey));
            }
            // A range reaching past retention always says so: an empty answer there means "not kept", not "none".
            if (explain || plan.ReachesPastRetention)
            {
                json.WriteStartObject("plan");
                json.WriteString("index", plan.IndexName);
                json.WriteNumber("partitions", page.PartitionsRead);
                json.WriteNumber("partitionsPlanned", plan.PartitionCount);
                json.WriteNumber("itemsRead", page.ItemsRead);
                json.WriteString("keptFrom", Timestamps.ToText(plan.KeptFromMs));
                json.WriteBoolean("reachesPastRetention", plan.ReachesPastRetention);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static string? Build(IQueryCollection q, long nowMs, EventLimits limits, out EventQuery query, out bool explain)
    {
        query = null!;
        explain = q["explain"] == "true";
        string? source = null;
        var sourceText = q["sourceIP"].ToString();
        if (sourceText.Length > 0)
        {
            // Formats whose source is not always an address keep a name (ec2.amazonaws.com); those are looked up as given.
            source = SourceAddress.TryNormalizeIp(sourceText, out var ip) ? ip : sourceText;
        }
        var type = q["eventType"].ToString();
        var fromMs = nowMs - (long)StoreOptions.HotWindow.TotalMilliseconds;
        // Events may be stamped up to the accepted clock skew ahead; the default range includes them.
        var toMs = nowMs + (long)limits.MaxFutureSkew.TotalMilliseconds;
        if ((QueryTime.Read(q, "from", ref fromMs) ?? QueryTime.Read(q, "to", ref toMs)) is { } timeError)
        {
            return timeError;
        }
        if (toMs <= fromMs)
        {
            return "to must be after from";
        }
        var limit = EventQuery.DefaultLimit;
        if (q["limit"].ToString() is { Length: > 0 } limitText &&
            (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > EventQuery.MaxLimit))
        {
            return $"limit: must be a whole number from 1 to {EventQuery.MaxLimit}";
        }
        string? after = null;
        if (q["cursor"].ToString() is { Length: > 0 } cursor && !Cursor.TryDecode(cursor, out after))
        {
            return "cursor: not a cursor returned by this API";
        }
        query = new EventQuery
        {
            SourceIP = source,
            EventType = type.Length > 0 ? type : null,
            FromMs = fromMs,
            ToMs = toMs,
            Limit = limit,
            AfterSortKey = after,
        };
        return null;
    }
}
