using System.Reflection;
using Hydrant.Server.Api;

namespace Hydrant.Server.WebConsole;

/// <summary>
/// The console: static pages compiled into the server (no extra process, nothing from the
/// internet), served at <c>/</c> and <c>/console/*</c>. Its script talks to the API with the tab's
/// key; the pages themselves hold no data, so they are served without one. A strict content
/// security policy allows only this node's own scripts, styles and API.
/// </summary>
public static class ConsoleEndpoints
{
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, (string Resource, string ContentType)> Files = new(StringComparer.Ordinal)
    {
        ["index.html"] = ("index.html", "text/html; charset=utf-8"),
        ["app.js"] = ("app.js", "text/javascript; charset=utf-8"),
        ["app.css"] = ("app.css", "text/css; charset=utf-8"),
    };

    public static void MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext context) => Serve(context, "index.html")).Takes().ExcludeFromDescription();
        app.MapGet("/console/{file}", (HttpContext context, string file) => Serve(context, file)).Takes().ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Files.TryGetValue(file, out var found) || Assembly.GetExecutingAssembly().GetManifestResourceStream("Hydrant.Server.WebConsole." + found.Resource) is not { } stream)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "not found", $"the console has no file '{file}'");
        }
        context.Response.Headers.ContentSecurityPolicy = Policy;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Stream(stream, found.ContentType);
    }
}
