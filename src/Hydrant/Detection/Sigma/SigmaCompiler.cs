using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Hydrant.Detection.Sigma;

/// <summary>
/// Parses a Sigma rule (YAML) and compiles its detection: search identifiers (maps, lists of maps,
/// keyword lists), every value modifier of the specification's appendix, and the condition.
/// Anything it cannot run exactly is refused with the reason and its place in the YAML.
/// </summary>
public sealed partial class SigmaCompiler(SigmaOptions options)
{
    private static readonly char[] Dashes = ['-', '/', '\u2013', '\u2014', '\u2015'];

    /// <summary>A file that must hold exactly one detection rule (tests and tools that want one).</summary>
    public SigmaRule Compile(string yaml) =>
        CompileAll(yaml) is [SigmaRule rule] ? rule : throw new SigmaException("expected one detection rule");

    /// <summary>Every document of a rule file, all of which must compile (the first refusal is thrown).</summary>
    public IReadOnlyList<SigmaDocument> CompileAll(string yaml) =>
        [.. CompileFile(yaml).Select(d => d.Document ?? throw d.Error!)];

    /// <summary>The documents of the rule file at <paramref name="path"/>; a file too large or unreadable is one refusal.</summary>
    public IReadOnlyList<CompiledDocument> CompilePath(string path)
    {
        try
        {
            var length = new FileInfo(path).Length;
            return length > RuleLimits.MaxRuleBytes
                ? [new CompiledDocument(null, new SigmaException($"the file is {length} bytes, over the limit of {RuleLimits.MaxRuleBytes} for one rule file"), null, null)]
                : CompileFile(File.ReadAllText(path));
        }
        catch (IOException e)
        {
            return [new CompiledDocument(null, new SigmaException("the file cannot be read: " + e.Message), null, null)];
        }
        catch (UnauthorizedAccessException e)
        {
            return [new CompiledDocument(null, new SigmaException("the file cannot be read: " + e.Message), null, null)];
        }
    }

    /// <summary>
    /// Every YAML document of a rule file (a correlation and the rules it refers to may share one
    /// file, separated by <c>---</c>), each compiled or refused on its own.
    /// </summary>
    public IReadOnlyList<CompiledDocument> CompileFile(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new RuleLimits.CheckedYamlParser(yaml));
        }
        catch (SigmaException e)
        {
            return [new CompiledDocument(null, e, null, null)];
        }
        catch (YamlException e)
        {
            return [new CompiledDocument(null, new SigmaException("not valid YAML: " + e.Message, (int)e.Start.Line, (int)e.Start.Column), null, null)];
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's answer to a document that ends inside an open flow collection.
            return [new CompiledDocument(null, new SigmaException("not valid YAML: the document ends inside an unclosed [ or {"), null, null)];
        }
        if (stream.Documents.Count == 0)
        {
            return [new CompiledDocument(null, new SigmaException("the file holds no rule"), null, null)];
        }
        return [.. stream.Documents.Select(document =>
        {
            var root = document.RootNode as YamlMappingNode;
            var (id, title) = root is null ? (null, null) : (Scalar(root, "id"), Scalar(root, "title"));
            try
            {
                var compiled = CompileDocument(document.RootNode);
                compiled.About = AboutOf(root!, yaml, document);
                return new CompiledDocument(compiled, null, id, title);
            }
            catch (SigmaException e)
            {
                return new CompiledDocument(null, e, id, title);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A shape no check foresaw: this document is refused, the others and the caller go on.
                return new CompiledDocument(null, new SigmaException($"the rule cannot be compiled: {e.Message}", (int)document.RootNode.Start.Line, (int)document.RootNode.Start.Column), id, title);
            }
        })];
    }

    private SigmaDocument CompileDocument(YamlNode node)
    {
        if (node is not YamlMappingNode root)
        {
            throw Error(node, "a rule must be a YAML mapping");
        }
        if (Child(root, "action") is { } action)
        {
            throw Error(action, "Sigma 1 rule collections ('action: global/reset/repeat') are not supported; write each rule in full");
        }
        var title = Scalar(root, "title") ?? throw Error(root, "missing 'title'");
        var id = Scalar(root, "id") ?? DerivedId(title);
        var name = Scalar(root, "name");
        var level = Scalar(root, "level") ?? "medium";
        if (!SigmaLevels.IsLevel(level))
        {
            throw Error(Child(root, "level")!, $"level '{level}' is not one of {SigmaLevels.Listed}");
        }
        if (Child(root, "correlation") is { } correlation)
        {
            return CompileCorrelation(root, correlation, id, name, title, level);
        }
        var logsourceNode = Child(root, "logsource") as YamlMappingNode ?? throw Error(root, "missing 'logsource' mapping");
        var logsource = new Logsource(Scalar(logsourceNode, "product"), Scalar(logsourceNode, "service"), Scalar(logsourceNode, "category"));
        if (Child(root, "filter") is YamlMappingNode filter && Child(root, "detection") is null)
        {
            var targets = Names(filter, "rules") ?? throw Error(filter, "a filter needs 'rules': the ids or names of the rules it tunes");
            var detectionOfFilter = new YamlMappingNode(filter.Children.Where(p => p.Key is YamlScalarNode { Value: not "rules" }));
            return new SigmaFilter(id, name, title, logsource, targets, CompileDetection(detectionOfFilter, new ValueBudget()).Matches);
        }
        var tags = Child(root, "tags") is YamlSequenceNode tagList ? tagList.Children.OfType<YamlScalarNode>().Select(t => t.Value ?? string.Empty).ToList() : [];
        var detection = Child(root, "detection") as YamlMappingNode ?? throw Error(root, "missing 'detection' mapping");

        var selections = new List<RuleSelection>();
        var compiled = CompileDetection(detection, new ValueBudget(), selections);
        return new SigmaRule(id, name, title, level, Scalar(root, "status"), logsource, tags, compiled.Matches, compiled.Requirement) { Selections = selections };
    }

    private static RuleAbout AboutOf(YamlMappingNode root, string yaml, YamlDocument document)
    {
        // The document's own text (a correlation's file holds its rules' documents too): a block
        // mapping's end mark is its start, so the text runs to the end of its last node.
        var start = (int)Math.Min(document.RootNode.Start.Index, yaml.Length);
        var end = (int)Math.Min(document.AllNodes.Max(n => n.End.Index), yaml.Length);
        static IReadOnlyList<string> List(YamlMappingNode map, string key) => Child(map, key) switch
        {
            YamlSequenceNode items => [.. items.Children.OfType<YamlScalarNode>().Select(i => i.Value).OfType<string>()],
            YamlScalarNode { Value: { Length: > 0 } one } => [one],
            _ => [],
        };
        return new RuleAbout(Scalar(root, "description"), Scalar(root, "author"), Scalar(root, "date"), List(root, "references"), List(root, "falsepositives"), List(root, "tags"),
            end > start ? yaml[start..end].TrimEnd() : string.Empty);
    }

    /// <summary>A scalar or a non-empty list of scalars, as a list; null when absent or of another shape.</summary>
    private static List<string>? Names(YamlMappingNode map, string key) => Child(map, key) switch
    {
        YamlSequenceNode list when list.Children.Count > 0 => [.. list.Children.Select(c => (c as YamlScalarNode)?.Value is { Length: > 0 } v ? v : throw Error(c, $"each of '{key}' is a name"))],
        YamlScalarNode { Value: { Length: > 0 } one } => [one],
        _ => null,
    };

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    private static string? Scalar(YamlMappingNode map, string key) => Child(map, key) is YamlScalarNode { Value: { Length: > 0 } value } ? value : null;

    private static string DerivedId(string title) =>
        "title-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(title)))[..16];

    private static SigmaException Error(YamlNode node, string reason) => new(reason, (int)node.Start.Line, (int)node.Start.Column);

}
