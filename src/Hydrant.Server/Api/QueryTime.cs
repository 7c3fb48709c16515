using Hydrant.Events;

namespace Hydrant.Server.Api;

/// <summary>The from/to parameters of the query endpoints: RFC 3339 with an offset, or epoch milliseconds.</summary>
internal static class QueryTime
{
    /// <summary>Null when the parameter is absent (the value is left as it was) or valid (the value is set); else the error.</summary>
    public static string? Read(IQueryCollection query, string name, ref long? epochMs)
    {
        var error = TryRead(query, name, out var found);
        epochMs = found ?? epochMs;
        return error;
    }

    /// <inheritdoc cref="Read(IQueryCollection, string, ref long?)"/>
    public static string? Read(IQueryCollection query, string name, ref long epochMs)
    {
        var error = TryRead(query, name, out var found);
        epochMs = found ?? epochMs;
        return error;
    }

    private static string? TryRead(IQueryCollection query, string name, out long? epochMs)
    {
        epochMs = null;
        if (query[name].ToString() is not { Length: > 0 } text)
        {
            return null;
        }
        if (!Timestamps.TryParse(text, out var ms))
        {
            return $"{name}: '{text}' is not an RFC 3339 date-time with offset or epoch milliseconds";
        }
        epochMs = ms;
        return null;
    }
}
