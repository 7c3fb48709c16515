using System.Security.Cryptography;
using System.Text;

namespace Hydrant.Server.Auth;

public static class Scopes
{
    public const string Ingest = "ingest";
    public const string Query = "query";
    public const string Admin = "admin";

    public static readonly IReadOnlySet<string> All = new HashSet<string>([Ingest, Query, Admin], StringComparer.Ordinal);
}

/// <summary>A configured bearer key and the scopes it grants. Admin implies every scope.</summary>
public sealed record ApiKey(byte[] KeyHash, IReadOnlySet<string> Scopes)
{
    public static ApiKey From(string? key, IEnumerable<string> scopes)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length < 16)
        {
            throw new InvalidOperationException("Hydrant:Auth:Keys: every key needs a Key of at least 16 characters");
        }
        var set = scopes.ToHashSet(StringComparer.Ordinal);
        var unknown = set.Where(s => !Auth.Scopes.All.Contains(s)).ToList();
        if (set.Count == 0 || unknown.Count > 0)
        {
            throw new InvalidOperationException($"Hydrant:Auth:Keys: scopes must be some of ingest, query, admin; got '{string.Join(",", unknown)}'");
        }
        return new ApiKey(Hash(key), set);
    }

    public bool Grants(string scope) => Scopes.Contains(scope) || Scopes.Contains(Auth.Scopes.Admin);

    /// <summary>Keys are compared as SHA-256 hashes in fixed time, so neither timing nor memory gives them away.</summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
