using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Hydrant.Analytics;
using Hydrant.Events;
using Hydrant.Server.Auth;
using Hydrant.Server.Hosting;

namespace Hydrant.Server.Api;

public static class AnalyticsEndpoints
{
    private const int MaxSqlChars = 64 * 1024;

    public static void MapAnalytics(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/analytics/query", QueryAsync)
            .Takes("format", "maxRows")
            .RequireScope(Scopes.Admin)
            .WithName("AnalyticsQuery")
            .Reads<QueryRequest>("application/json")
            .Answers<AnalyticsAnswer>(problems: [StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status429TooManyRequests])
            .AlsoAnswersText(StatusCodes.Status200OK, "text/csv")
            .WithSummary("One read-only SQL query (SELECT or WITH) over the analytics store, {\"sql\":\"...\"}; ?format=csv for CSV, ?maxRows= under the configured cap");

    public sealed record QueryRequest(string? Sql);

    /// <summary>How many ad-hoc queries may run at once (Hydrant:Analytics:MaxConcurrentQueries): each holds a core while it runs.</summary>
    public sealed class QuerySlots(AnalyticsSettings settings) : IDisposable
    {
        public static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

        public SemaphoreSlim Slots { get; } = new(settings.MaxConcurrentQueries, settings.MaxConcurrentQueries);

        public int Max { get; } = settings.MaxConcurrentQueries;

        public void Dispose() => Slots.Dispose();
    }

    private static async Task<IResult> QueryAsync(HttpContext context, string? format, int? maxRows, IAnalyticsStore analytics, HydrantSettings settings, QuerySlots slots)
    {
        if (format is not (null or "json" or "csv"))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad format", $"format '{format}' is not one of json, csv");
        }
        if (context.Request.ContentLength > MaxSqlChars * 4L)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "query too long", $"a query may be at most {MaxSqlChars} characters");
        }
        QueryRequest? request;
        try
        {
            // Whatever the Content-Type says (curl -d sends a form type): the body is read as JSON.
            request = await JsonSerializer.DeserializeAsync<QueryRequest>(context.Request.Body, ApiJson.Options, context.RequestAborted);
        }
        catch (JsonException)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad request", "the body must be JSON: {\"sql\":\"SELECT ...\"}");
        }
        var sql = request?.Sql;
        if (string.IsNullOrWhiteSpace(sql))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad request", "the body must be JSON: {\"sql\":\"SELECT ...\"}");
        }
        if (sql.Length > MaxSqlChars)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "query too long", $"a query may be at most {MaxSqlChars} characters");
        }
        if (ReadOnlySql.Check(sql) is { } refusal)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "query refused", refusal);
        }
        if (maxRows is < 1)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad maxRows", "maxRows must be 1 or more");
        }
        var limits = settings.Analytics;
        if (!await slots.Slots.WaitAsync(QuerySlots.Wait, context.RequestAborted))
        {
            context.Response.Headers.RetryAfter = "1";
            return Problems.Create(StatusCodes.Status429TooManyRequests, "too many queries",
                $"{slots.Max} ad-hoc queries are running, the most at once (Hydrant:Analytics:MaxConcurrentQueries); retry later");
        }
        QueryAnswer answer;
        try
        {
            answer = await analytics.QueryAsync(
                new AnalyticsQuery(sql, Math.Min(maxRows ?? limits.MaxRows, limits.MaxRows), limits.QueryTimeout) { MaxBytes = limits.MaxAnswerBytes },
                context.RequestAborted);
        }
        catch (AnalyticsQueryException e)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, e.Failure switch
            {
                QueryFailure.Refused => "query refused",
                QueryFailure.TimedOut => "query timed out",
                _ => "query failed",
            }, e.Message);
        }
        finally
        {
            slots.Slots.Release();
        }
        return format == "csv"
            ? Results.Text(Csv(answer), "text/csv; charset=utf-8")
            : Results.Bytes(Json(answer), "application/json; charset=utf-8");
    }

    /// <summary>{"columns":[...],"rows":[[...]],"truncated":b} (CONTRACT "Shapes").</summary>
    internal static byte[] Json(QueryAnswer answer)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartArray("columns");
            foreach (var column in answer.Columns)
            {
                json.WriteStringValue(column);
            }
            json.WriteEndArray();
            json.WriteStartArray("rows");
            foreach (var row in answer.Rows)
            {
                json.WriteStartArray();
                foreach (var value in row)
                {
                    WriteValue(json, value);
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteBoolean("truncated", answer.Truncated);
            if (answer.Truncated)
            {
                json.WriteString("truncatedBy", answer.TruncatedBy == QueryLimit.Bytes ? "bytes" : "rows");
            }
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>
    /// RFC 4180 with a header line; nested values (lists, structs) as their JSON text. Text that a
    /// spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return:
    /// event fields are attacker-written) is prefixed with a single quote, as OWASP advises.
    /// </summary>
    internal static string Csv(QueryAnswer answer)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', answer.Columns.Select(c => Quote(Defused(c)))).Append("\r\n");
        foreach (var row in answer.Rows)
        {
            csv.AppendJoin(',', row.Select(v => Quote(v is string text ? Defused(text) : Text(v)))).Append("\r\n");
        }
        return csv.ToString();
    }

    private static string Defused(string text) => text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Text(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        DateTime or DateTimeOffset or DateOnly => Scalar(value),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IDictionary or IEnumerable and not byte[] => JsonText(value),
        byte[] bytes => Convert.ToBase64String(bytes),
        _ => value.ToString() ?? string.Empty,
    };

    private static string JsonText(object value)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            WriteValue(json, value);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string Scalar(object value) => value switch
    {
        DateTime t => Timestamps.ToText(new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeMilliseconds()),
        DateTimeOffset t => Timestamps.ToText(t.ToUnixTimeMilliseconds()),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case string s:
                json.WriteStringValue(s);
                break;
            case bool b:
                json.WriteBooleanValue(b);
                break;
            case long or int or short or sbyte or byte or ushort or uint:
                json.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong u:
                json.WriteNumberValue(u);
                break;
            case decimal m:
                json.WriteNumberValue(m);
                break;
            case double or float:
                var d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsFinite(d))
                {
                    json.WriteNumberValue(d);
                }
                else
                {
                    json.WriteStringValue(d.ToString(CultureInfo.InvariantCulture));
                }
                break;
            case BigInteger big:
                json.WriteRawValue(big.ToString(CultureInfo.InvariantCulture));
                break;
            case DateTime or DateTimeOffset or DateOnly:
                json.WriteStringValue(Scalar(value));
                break;
            case byte[] bytes:
                json.WriteBase64StringValue(bytes);
                break;
            case IDictionary map:
                json.WriteStartObject();
                foreach (DictionaryEntry entry in map)
                {
                    json.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                    WriteValue(json, entry.Value);
                }
                json.WriteEndObject();
                break;
            case IEnumerable items:
                json.WriteStartArray();
                foreach (var item in items)
                {
                    WriteValue(json, item);
                }
                json.WriteEndArray();
                break;
            case IFormattable f:
                json.WriteStringValue(f.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteStringValue(value.ToString());
                break;
        }
    }
}
