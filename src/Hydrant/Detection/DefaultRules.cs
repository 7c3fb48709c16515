namespace Hydrant.Detection;

/// <summary>The team's rule pack for the built-in event types and formats, embedded in the assembly (Detection/Rules/*.yml).</summary>
public static class DefaultRules
{
    public static IEnumerable<(string Name, string Yaml)> All()
    {
        var assembly = typeof(DefaultRules).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name["Hydrant.Detection.Rules.".Length..], reader.ReadToEnd());
        }
    }
}
