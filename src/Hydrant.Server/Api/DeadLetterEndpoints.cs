using System.Globalization;
using System.Text;
using Hydrant.Events;
using Hydrant.Server.Auth;
using Hydrant.Spool;

namespace Hydrant.Server.Api;

public static class DeadLetterEndpoints
{
    private static readonly string[] Parameters = ["consumer", "before", "limit"];

    public static void MapDeadLetters(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/deadletters", List)
            .Takes(Parameters)
            .RequireScope(Scopes.Query)
            .WithName("DeadLetters")
            .Answers<DeadLetterPageAnswer>(problems: StatusCodes.Status400BadRequest)
            .WithSummary("Spool entries a consumer could not process, newest first, with the reason and the event's bytes; ?consumer=, ?before= (a sequence, from the previous page's next), ?limit=");

    private static IResult List(HttpContext context, IDeadLetterStore deadLetters)
    {
        var q = context.Request.Query;
        var limit = 100;
        if (q["limit"].ToString() is { Length: > 0 } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad query", "limit: must be a whole number from 1 to 1000");
        }
        long? before = null;
        if (q["before"].ToString() is { Length: > 0 } beforeText)
        {
            if (!long.TryParse(beforeText, NumberStyles.None, CultureInfo.InvariantCulture, out var b))
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "bad query", "before: must be a spool sequence (a whole number)");
            }
            before = b;
        }
        var consumer = q["consumer"].ToString() is { Length: > 0 } name ? name : null;
        var page = deadLetters.List(consumer, before, limit + 1);
        // The bytes as text (what could not be read shows as U+FFFD), and exactly, for export.
        var letters = page.Take(limit).Select(l => new DeadLetterAnswer(
            l.Consumer, l.Sequence, Timestamps.ToText(l.AtMs), l.Reason, Encoding.UTF8.GetString(l.Event.Span), Convert.ToBase64String(l.Event.Span))).ToList();
        var next = page.Count > limit ? page[limit - 1].Sequence.ToString(CultureInfo.InvariantCulture) : null;
        return Results.Json(new DeadLetterPageAnswer(letters, deadLetters.Counts(), next), ApiJson.Options);
    }
}
