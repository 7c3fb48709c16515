namespace Hydrant.Detection;

/// <summary>The team's rule pack for the built-in event types and formats, embedded in the assembly (Detection/Rules/*.yml).</summary>
public static class DefaultRules
{
    private const string Prefix = "Hydrant.Detection.Rules.";

    public static IEnumerable<(string Name, string Yaml)> All()
    {
        var assembly = typeof(DefaultRules).Assembly;
        // The assembly embeds other YAML too (the Windows logsource mapping): only the pack's folder.
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name[Prefix.Length..], reader.ReadToEnd());
        }
    }
}
