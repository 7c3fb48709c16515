using System.Globalization;
using System.Reflection;

namespace Hydrant.Analytics;

/// <summary>
/// A backend's schema as numbered .sql files embedded in its assembly ("{prefix}001_name.sql"),
/// in version order, for the backend to apply those past the version it has recorded.
/// </summary>
public static class EmbeddedMigrations
{
    public static IReadOnlyList<(int Version, string Sql)> Read(Assembly assembly, string prefix) =>
        [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => (Version: int.Parse(n[prefix.Length..n.IndexOf('_', prefix.Length)], CultureInfo.InvariantCulture), Name: n))
            .OrderBy(m => m.Version)
            .Select(m =>
            {
                using var stream = assembly.GetManifestResourceStream(m.Name)!;
                using var reader = new StreamReader(stream);
                return (m.Version, reader.ReadToEnd());
            })];
}
