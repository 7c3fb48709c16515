namespace Hydrant.Server.Api;

/// <summary>Error answers: {"error":"...","detail":"...","status":N} as application/problem+json, never a stack trace.</summary>
public static class Problems
{
    public static IResult Create(int status, string error, string? detail = null) =>
        Results.Json(new ProblemBody(error, detail, status), ApiJson.Options, "application/problem+json", status);

    public static async Task WriteAsync(HttpContext context, int status, string error, string? detail = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsJsonAsync(new ProblemBody(error, detail, status), ApiJson.Options, "application/problem+json", context.RequestAborted);
    }

    public sealed record ProblemBody(string Error, string? Detail, int Status);
}
