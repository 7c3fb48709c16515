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
            .Takes("sourceIP", "eventType", "from", "to", "limit", "cursor", "explain", "field.*")
            .RequireScope(Scopes.Query)
            .WithName("QueryEvents")
            .Answers<EventPageAnswer>(problems: StatusCodes.Status400BadRequest)
            .WithSummary("Historical events, newest first, from inclusive, to exclusive (default: the last 24 h); field.NAME=VALUE (repeatable, all must hold; dotted names, * and ? wildcards) filters on any field");
        app.MapGet("/v1/events/{id}", GetAsync)
            .Takes()
            .RequireScope(Scopes.Query)
            .WithName("GetEvent")
            .Answers<StoredEvent>(problems: [StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound])
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
        var conditions = q.Where(p => p.Key.StartsWith("field.", StringComparison.Ordinal)).SelectMany(p => p.Value.Select(v => (p.Key["field.".Length..], v ?? string.Empty))).ToList();
        var filter = conditions.Count == 0 || error is not null ? null : FieldFilter.Parse(conditions, out error);
        if (error is not null)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad query", error);
            return;
        }
        var plan = QueryPlanner.Plan(query, nowMs, options.Retention);
        var (page, examined, stoppedByBound) = filter is null
            ? (await store.QueryAsync(query, plan, context.RequestAborted), -1L, false)
            : await FilterAsync(store, query, plan, filter, options.MaxExaminedPerPage, context.RequestAborted);

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
            // A page cut short by the bound of examined events says so too: fewer events than asked is not the end.
            if (explain || plan.ReachesPastRetention || stoppedByBound)
            {
                json.WriteStartObject("plan");
                json.WriteString("index", plan.IndexName);
                json.WriteNumber("partitions", page.PartitionsRead);
                json.WriteNumber("partitionsPlanned", plan.PartitionCount);
                json.WriteNumber("itemsRead", page.ItemsRead);
                if (examined >= 0)
                {
                    // Field conditions are tested on the events the plan reads: how many, and whether the page ended at the bound.
                    json.WriteNumber("eventsExamined", examined);
                    json.WriteBoolean("examinedBound", stoppedByBound);
                }
                json.WriteString("keptFrom", Timestamps.ToText(plan.KeptFromMs));
                json.WriteBoolean("reachesPastRetention", plan.ReachesPastRetention);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary>
    /// Pages of the plan read in turn and filtered until the page is full, the range ends, or the
    /// bound of examined events is reached (then the page ends early and its cursor goes on).
    /// </summary>
    private static async Task<(EventPage Page, long Examined, bool StoppedByBound)> FilterAsync(IEventStore store, EventQuery query, QueryPlan plan, FieldFilter filter, int maxExamined, CancellationToken cancellationToken)
    {
        var matched = new List<ReadOnlyMemory<byte>>(Math.Min(query.Limit, 1024));
        long itemsRead = 0, examined = 0;
        var partitions = 0;
        var cursor = query.AfterSortKey;
        while (true)
        {
            var page = await store.QueryAsync(query with { Limit = Math.Min(1000, maxExamined), AfterSortKey = cursor }, plan, cancellationToken);
            itemsRead += page.ItemsRead;
            partitions += page.PartitionsRead;
            foreach (var e in page.Events)
            {
                examined++;
                if (filter.Matches(e))
                {
                    matched.Add(e);
                }
                var full = matched.Count == query.Limit;
                if (full || examined >= maxExamined)
                {
                    return (new EventPage(matched, FieldFilter.SortKeyOf(e), partitions, itemsRead), examined, !full);
                }
            }
            if (page.NextSortKey is null)
            {
                return (new EventPage(matched, null, partitions, itemsRead), examined, false);
            }
            cursor = page.NextSortKey;
        }
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
