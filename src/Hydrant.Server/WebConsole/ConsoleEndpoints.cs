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

    private const string ResourcePrefix = "Hydrant.Server.WebConsole.";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
    };

    /// <summary>The console's files: exactly those compiled in from wwwroot, by name, with their content type.</summary>
    private static readonly Dictionary<string, string> Files = Assembly.GetExecutingAssembly().GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && ContentTypes.ContainsKey(Path.GetExtension(n)))
        .ToDictionary(n => n[ResourcePrefix.Length..], n => ContentTypes[Path.GetExtension(n)], StringComparer.Ordinal);

    public static void MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext context) => Serve(context, "index.html")).Takes().ExcludeFromDescription();
        app.MapGet("/console/{file}", (HttpContext context, string file) => Serve(context, file)).Takes().ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Files.TryGetValue(file, out var contentType) || Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourcePrefix + file) is not { } stream)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "not found", $"the console has no file '{file}'");
        }
        context.Response.Headers.ContentSecurityPolicy = Policy;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Stream(stream, contentType);
    }
}
