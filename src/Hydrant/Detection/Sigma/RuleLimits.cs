using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Hydrant.Detection.Sigma;

/// <summary>
/// Bounds on what one rule may make the compiler do, since rules come from users (hostile ones
/// included): checked on the YAML before it is loaded, and as the rule is compiled. A rule past
/// any of them is refused with the reason, never a crash or a runaway.
/// </summary>
public static class RuleLimits
{
    /// <summary>Bytes of one rule file or one rule sent to the API.</summary>
    public const int MaxRuleBytes = 1024 * 1024;

    /// <summary>Nesting of YAML collections (SigmaHQ's deepest rule nests 4).</summary>
    public const int MaxYamlDepth = 32;

    /// <summary>YAML nodes in one file.</summary>
    public const int MaxYamlNodes = 200_000;

    /// <summary>Tokens of one condition.</summary>
    public const int MaxConditionTokens = 1_000;

    /// <summary>Parentheses and "not" nested in one condition.</summary>
    public const int MaxConditionDepth = 32;

    /// <summary>Values one field becomes after expand, windash and the encodings.</summary>
    public const int MaxValuesPerField = 4_096;

    /// <summary>Values in one rule after expansion, over all its fields.</summary>
    public const int MaxValuesPerRule = 65_536;

    /// <summary>Characters of all of one field's values after expansion.</summary>
    public const int MaxCharsPerField = 4 * 1024 * 1024;

    /// <summary>Characters of one regular expression.</summary>
    public const int MaxRegexChars = 16 * 1024;

    /// <summary>The longest correlation timespan: windows are kept in memory for as long.</summary>
    public static readonly TimeSpan MaxTimespan = TimeSpan.FromDays(30);

    /// <summary>
    /// Reads the YAML's events (no nodes are built) and refuses aliases (a few lines of them can
    /// expand to gigabytes), keys that are not scalars, nesting past <see cref="MaxYamlDepth"/> and
    /// files of more than <see cref="MaxYamlNodes"/> nodes.
    /// </summary>
    internal static void CheckYaml(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        // Per open collection: is it a mapping, and is its next node a key.
        var open = new Stack<(bool Mapping, bool ExpectKey)>();
        var nodes = 0;
        while (parser.MoveNext())
        {
            var current = parser.Current!;
            switch (current)
            {
                case AnchorAlias alias:
                    throw new SigmaException($"YAML aliases (*{alias.Value}) are not allowed in rules", (int)alias.Start.Line, (int)alias.Start.Column);
                case NodeEvent node:
                    if (++nodes > MaxYamlNodes)
                    {
                        throw new SigmaException($"the file has more than {MaxYamlNodes} YAML nodes", (int)node.Start.Line, (int)node.Start.Column);
                    }
                    if (open.TryPop(out var parent))
                    {
                        if (parent is { Mapping: true, ExpectKey: true } && node is not Scalar)
                        {
                            throw new SigmaException("a mapping key must be a plain value, not a list or a mapping", (int)node.Start.Line, (int)node.Start.Column);
                        }
                        open.Push(parent with { ExpectKey = parent.Mapping && !parent.ExpectKey });
                    }
                    if (node is MappingStart or SequenceStart)
                    {
                        if (open.Count >= MaxYamlDepth)
                        {
                            throw new SigmaException($"YAML nested more than {MaxYamlDepth} levels deep", (int)node.Start.Line, (int)node.Start.Column);
                        }
                        open.Push((node is MappingStart, true));
                    }
                    break;
                case MappingEnd or SequenceEnd:
                    open.Pop();
                    break;
            }
        }
    }
}
