using System.Security.Cryptography;
using Hydrant.Server.Api;

namespace Hydrant.Server.Auth;

/// <summary>Bearer-key checks per endpoint. With no keys configured (loopback only) every request passes.</summary>
public sealed class ApiKeyAuthorization(IReadOnlyList<ApiKey> keys)
{
    public bool IsOpen => keys.Count == 0;

    public IResult? Check(HttpContext context, string scope)
    {
        if (IsOpen)
        {
            return null;
        }
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "send Authorization: Bearer <key>");
        }
        var hash = ApiKey.Hash(header["Bearer ".Length..].Trim());
        var key = keys.FirstOrDefault(k => CryptographicOperations.FixedTimeEquals(k.KeyHash, hash));
        if (key is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            return Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "unknown key");
        }
        context.Items[ApiKey.ContextItem] = key;
        return key.Grants(scope) ? null : Problems.Create(StatusCodes.Status403Forbidden, "forbidden", $"this key lacks the '{scope}' scope");
    }
}

public static class ApiKeyEndpointExtensions
{
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var auth = context.HttpContext.RequestServices.GetRequiredService<ApiKeyAuthorization>();
            return auth.Check(context.HttpContext, scope) ?? await next(context);
        });
}
