using System.Globalization;
using Hydrant.Reports;
using Hydrant.Server.Auth;
using Hydrant.Server.Reports;

namespace Hydrant.Server.Api;

public static class ReportEndpoints
{
    private const int MaxListed = 366;

    public static void MapReports(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/reports/daily", ListAsync)
            .Takes("limit")
            .RequireScope(Scopes.Query)
            .WithName("ListDailyReports")
            .Answers<ReportListAnswer>(problems: StatusCodes.Status400BadRequest)
            .WithSummary("The stored daily reports, newest day first (?limit=, default 30, at most 366): each day with when it was built, its events and alerts");
        app.MapGet("/v1/reports/daily/{date}", GetAsync)
            .Takes("format")
            .RequireScope(Scopes.Query)
            .WithName("GetDailyReport")
            .Answers<DailyReport>(problems: [StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound])
            .AlsoAnswersText(StatusCodes.Status200OK, "text/html", "text/markdown")
            .WithSummary("The stored report of a UTC day as JSON, HTML with charts, or Markdown (?format=json|html|md); 404 if that day has none yet");
        app.MapPost("/v1/reports/daily/{date}", BuildAsync)
            .Takes()
            .RequireScope(Scopes.Admin)
            .WithName("BuildDailyReport")
            .Answers<DailyReport>(problems: StatusCodes.Status400BadRequest)
            .WithSummary("Build (or rebuild) the report of a UTC day from the analytics store now, store it, and return it as JSON");
    }

    private static async Task<IResult> GetAsync(string date, string? format, DailyReports reports, CancellationToken cancellationToken)
    {
        if (Day(date) is not { } day)
        {
            return BadDate(date);
        }
        if (Renderer(format) is not { } render)
        {
            return BadFormat(format);
        }
        return await reports.LoadAsync(day, cancellationToken) is { } report
            ? render(report)
            : Problems.Create(StatusCodes.Status404NotFound, "no report", $"no report for {date} yet; POST /v1/reports/daily/{date} builds it");
    }

    private static async Task<IResult> ListAsync(HttpContext context, DailyReports reports, CancellationToken cancellationToken)
    {
        var limit = 30;
        if (context.Request.Query["limit"].ToString() is { Length: > 0 } text &&
            (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxListed))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad query", $"limit: a whole number from 1 to {MaxListed}");
        }
        return Results.Json(new ReportListAnswer(await reports.ListAsync(limit, cancellationToken)), ApiJson.Options);
    }

    private static async Task<IResult> BuildAsync(string date, DailyReports reports, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Day(date) is not { } day)
        {
            return BadDate(date);
        }
        if (day > DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "date in the future", $"{date} has not begun yet (UTC)");
        }
        return Json(await reports.BuildAsync(day, cancellationToken));
    }

    private static DateOnly? Day(string date) =>
        DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;

    private static Func<DailyReport, IResult>? Renderer(string? format) => format switch
    {
        null or "json" => Json,
        "html" => r => Results.Content(HtmlReport.Render(r), "text/html; charset=utf-8"),
        "md" => r => Results.Content(MarkdownReport.Render(r), "text/markdown; charset=utf-8"),
        _ => null,
    };

    private static IResult Json(DailyReport report) => Results.Content(report.ToJson(), "application/json; charset=utf-8");

    private static IResult BadDate(string date) =>
        Problems.Create(StatusCodes.Status400BadRequest, "bad date", $"'{date}' is not a date as yyyy-MM-dd");

    private static IResult BadFormat(string? format) =>
        Problems.Create(StatusCodes.Status400BadRequest, "bad format", $"format '{format}' is not one of json, html, md");
}
