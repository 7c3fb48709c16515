using System.Security.Cryptography;
using System.Text;

namespace Hydrant.Server.Auth;

public static class Scopes
{
    public const string Ingest = "ingest";
    public const string Query = "query";
    public const string Admin = "admin";

    /// <summary>Changing alerts' status, assignee and notes (PATCH /v1/alerts/{id}).</summary>
    public const string Triage = "triage";

    public static readonly IReadOnlySet<string> All = new HashSet<string>([Ingest, Query, Triage, Admin], StringComparer.Ordinal);
}

/// <summary>A configured bearer key, the scopes it grants (admin implies every scope) and the name its changes are recorded by.</summary>
public sealed record ApiKey(byte[] KeyHash, IReadOnlySet<string> Scopes, string Name)
{
    /// <summary>Where the key of a request is kept for the endpoint, once checked.</summary>
    public const string ContextItem = "hydrant.apikey";

    public static ApiKey From(string? key, IEnumerable<string> scopes, string? name = null)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length < 16)
        {
            throw new InvalidOperationException("Hydrant:Auth:Keys: every key needs a Key of at least 16 characters");
        }
        var set = scopes.ToHashSet(StringComparer.Ordinal);
        var unknown = set.Where(s => !Auth.Scopes.All.Contains(s)).ToList();
        if (set.Count == 0 || unknown.Count > 0)
        {
            throw new InvalidOperationException($"Hydrant:Auth:Keys: scopes must be some of ingest, query, triage, admin; got '{string.Join(",", unknown)}'");
        }
        var hash = Hash(key);
        // Unnamed keys are known by the start of their hash, which says nothing of the key.
        return new ApiKey(hash, set, string.IsNullOrWhiteSpace(name) ? "key-" + Convert.ToHexStringLower(hash.AsSpan(0, 4)) : name.Trim());
    }

    public bool Grants(string scope) => Scopes.Contains(scope) || Scopes.Contains(Auth.Scopes.Admin);

    /// <summary>Keys are compared as SHA-256 hashes in fixed time, so neither timing nor memory gives them away.</summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
