using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using Hydrant.Enrichment;
using Hydrant.Events;
using Hydrant.Events.Formats;
using Hydrant.Server.Auth;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace Hydrant.Server.Api;

public static class IngestEndpoints
{
    public static void MapIngest(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/events", IngestAsync)
            .Takes("format", "path", "year", "stream", "position")
            .RequireScope(Scopes.Ingest)
            .WithName("IngestEvents")
            .Reads<string>("application/x-ndjson", "application/json", "text/plain", "application/octet-stream")
            .Answers<IngestAnswer>(problems: [StatusCodes.Status400BadRequest, StatusCodes.Status408RequestTimeout, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status429TooManyRequests])
            .WithSummary("Ingest events: ?format=json|cloudtrail|zeek|syslog|web|windows|evtx (&path= for Zeek, &year= for RFC 3164 syslog, &stream=&position= to number records across requests; for evtx the body is the file, or its header and a run of chunks from chunk ?position= on); every accepted event is durable when this returns");

    private static async Task IngestAsync(HttpContext context, ISpool spool, EventParser parser, EventLimits limits, StoreOptions store, IngestStats stats, Enricher enricher)
    {
        if (ReadOptions(context.Request.Query) is not { } options)
        {
            var query = context.Request.Query;
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad parameters",
                $"format must be one of {string.Join(", ", ParseOptions.Names)} (got '{query["format"]}'); year a year from 1970 to 9999 (got '{query["year"]}'); path at most 64 characters; stream 1 to 128 characters; position a whole number");
            return;
        }
        if (spool.Depth >= store.SpoolHighWaterMark)
        {
            stats.RecordThrottled();
            context.Response.Headers.RetryAfter = "1";
            await Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "saturated",
                $"the spool holds {spool.Depth} events, at or above its high-water mark of {store.SpoolHighWaterMark}; retry later");
            return;
        }
        if (context.Request.ContentLength > limits.MaxBodyBytes)
        {
            await TooLargeAsync(context, limits);
            return;
        }
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limits.MaxBodyBytes;
        }

        using var body = new PooledBuffer((int)Math.Clamp(context.Request.ContentLength ?? 64 * 1024, 4096, limits.MaxBodyBytes));
        try
        {
            if (!await ReadBodyAsync(context.Request.BodyReader, body, limits.MaxBodyBytes, context.RequestAborted))
            {
                await TooLargeAsync(context, limits);
                return;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await TooLargeAsync(context, limits);
            return;
        }

        ParsedBatch batch;
        try
        {
            batch = parser.Parse(body.Span, options);
        }
        catch (EventParser.UnreadableBodyException e)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "unreadable body", e.Message);
            return;
        }

        using (batch)
        {
            var (events, notices) = enricher.Enabled ? Enrich(batch, enricher, limits) : (batch.Events, batch.Notices);
            var result = await spool.AppendAsync(events, context.RequestAborted);
            stats.RecordRequest(result.Stored + result.Duplicates, batch.Rejections.Count, result.Duplicates);
            await WriteAnswerAsync(context, result, batch.Rejections, notices);
        }
    }

    /// <summary>
    /// The events with what is known of their addresses added (docs/enrichment.md); those of which
    /// nothing is known as they were, and those their enrichment would make larger than the store
    /// keeps as they were too, each said in a notice.
    /// </summary>
    private static (IReadOnlyList<SecurityEvent> Events, IReadOnlyList<string> Notices) Enrich(ParsedBatch batch, Enricher enricher, EventLimits limits)
    {
        var events = batch.Events;
        var notices = new List<string>(batch.Notices);
        // Room for every event and a typical enrichment each: the buffer seldom grows (and copies).
        var output = new ArrayBufferWriter<byte>(events.Sum(e => e.Json.Length) + (events.Count * 256));
        var scratch = new ArrayBufferWriter<byte>(1024);
        var spans = new (int Start, int Length)[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var start = output.WrittenCount;
            spans[i] = enricher.TryEnrich(events[i].Json.Span, events[i].SourceIP, output, scratch) ? (start, output.WrittenCount - start) : (-1, 0);
            if (spans[i].Length > limits.MaxStoredEventBytes)
            {
                notices.Add(string.Create(CultureInfo.InvariantCulture,
                    $"event {events[i].Index}: stored without its enrichment, which would make it {spans[i].Length} bytes, more than the store keeps ({limits.MaxStoredEventBytes})"));
                spans[i] = (-1, 0);
            }
        }
        var memory = output.WrittenMemory;
        var enriched = new List<SecurityEvent>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            enriched.Add(spans[i].Start < 0 ? e : e.WithJson(memory.Slice(spans[i].Start, spans[i].Length)));
        }
        return (enriched, notices);
    }

    private static ParseOptions? ReadOptions(IQueryCollection query)
    {
        if (!ParseOptions.TryParseFormat(query["format"].ToString(), out var format))
        {
            return null;
        }
        int? year = null;
        if (query["year"].ToString() is { Length: > 0 } yearText)
        {
            if (!int.TryParse(yearText, NumberStyles.None, CultureInfo.InvariantCulture, out var y) || y is < 1970 or > 9999)
            {
                return null;
            }
            year = y;
        }
        var path = query["path"].ToString();
        if (path.Length > 64)
        {
            return null;
        }
        var stream = query["stream"].ToString();
        long position = 0;
        if (stream.Length > 128 || (query["position"].ToString() is { Length: > 0 } positionText
            && !long.TryParse(positionText, NumberStyles.None, CultureInfo.InvariantCulture, out position)))
        {
            return null;
        }
        return new ParseOptions
        {
            Format = format,
            SyslogYear = year,
            ZeekPath = path.Length > 0 ? path : null,
            Stream = stream.Length > 0 ? stream : null,
            Position = position,
        };
    }

    private static async Task<bool> ReadBodyAsync(PipeReader reader, PooledBuffer destination, long maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            foreach (var segment in read.Buffer)
            {
                if (destination.Length + segment.Length > maxBytes)
                {
                    return false;
                }
                destination.Write(segment.Span);
            }
            reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return true;
            }
        }
    }

    private static Task TooLargeAsync(HttpContext context, EventLimits limits) =>
        Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "body too large",
            string.Create(CultureInfo.InvariantCulture, $"a request body may hold at most {limits.MaxBodyBytes} bytes"));

    private static async Task WriteAnswerAsync(HttpContext context, AppendResult result, IReadOnlyList<EventRejection> rejections, IReadOnlyList<string> notices)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteNumber("accepted", result.Stored + result.Duplicates);
            json.WriteNumber("duplicates", result.Duplicates);
            json.WriteStartArray("rejected");
            foreach (var rejection in rejections)
            {
                json.WriteStartObject();
                json.WriteNumber("index", rejection.Index);
                json.WriteString("error", rejection.Error);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (notices.Count > 0)
            {
                json.WriteStartArray("notices");
                foreach (var notice in notices)
                {
                    json.WriteStringValue(notice);
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}
