namespace Hydrant.Server.Api;

/// <summary>
/// The query parameters an endpoint takes. Any other is answered 400 naming it: a misspelt or
/// unsupported filter (<c>?user=root</c>, <c>?sourceIp=</c>) must never be ignored and answer
/// with everything, as if it had matched.
/// </summary>
public sealed class QueryParameters(IReadOnlyList<string> names)
{
    public IReadOnlyList<string> Names { get; } = names;

    /// <summary>Whether a parameter is one of these; a name ending in * admits every longer name it begins (<c>field.*</c>).</summary>
    public bool Admits(string name) => Names.Any(n => n.EndsWith('*') ? name.StartsWith(n[..^1], StringComparison.Ordinal) && name.Length > n.Length - 1 : n == name);
}

public static class QueryParameterExtensions
{
    /// <summary>Declares the query parameters the endpoint takes (none when called without any); a name ending in * takes every name it begins.</summary>
    public static TBuilder Takes<TBuilder>(this TBuilder builder, params string[] names) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new QueryParameters(names));

    /// <summary>
    /// Refuses, before the endpoint runs, a query parameter the endpoint does not declare.
    /// An endpoint that declares nothing takes no parameters.
    /// </summary>
    public static IApplicationBuilder UseKnownQueryParameters(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint() is { } endpoint && context.Request.Query.Count > 0)
        {
            var declared = endpoint.Metadata.GetMetadata<QueryParameters>() ?? new QueryParameters([]);
            if (context.Request.Query.Keys.FirstOrDefault(k => !declared.Admits(k)) is { } unknown)
            {
                var takes = declared.Names.Count == 0 ? "this endpoint takes no query parameters" : "this endpoint takes " + string.Join(", ", declared.Names);
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "bad query", $"unknown parameter '{unknown}'; {takes}");
                return;
            }
        }
        await next();
    });
}
