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
    /// A parser of rule YAML that refuses, as the loader reads each event (before any node past the
    /// fault is built), aliases (a few lines of them can expand to gigabytes), keys that are not
    /// scalars, nesting past <see cref="MaxYamlDepth"/> and files of more than
    /// <see cref="MaxYamlNodes"/> nodes: the YAML is read once, and checked as it is.
    /// </summary>
    internal sealed class CheckedYamlParser(string yaml) : IParser
    {
        private readonly Parser _parser = new(new StringReader(yaml));
        // Per open collection: is it a mapping, and is its next node a key.
        private readonly Stack<(bool Mapping, bool ExpectKey)> _open = new();
        private int _nodes;

        public ParsingEvent? Current => _parser.Current;

        public bool MoveNext()
        {
            if (!_parser.MoveNext())
            {
                return false;
            }
            Check(_parser.Current!);
            return true;
        }

        private void Check(ParsingEvent current)
        {
            switch (current)
            {
                case AnchorAlias alias:
                    throw new SigmaException($"YAML aliases (*{alias.Value}) are not allowed in rules", (int)alias.Start.Line, (int)alias.Start.Column);
                case NodeEvent node:
                    if (++_nodes > MaxYamlNodes)
                    {
                        throw new SigmaException($"the file has more than {MaxYamlNodes} YAML nodes", (int)node.Start.Line, (int)node.Start.Column);
                    }
                    if (_open.TryPop(out var parent))
                    {
                        if (parent is { Mapping: true, ExpectKey: true } && node is not Scalar)
                        {
                            throw new SigmaException("a mapping key must be a plain value, not a list or a mapping", (int)node.Start.Line, (int)node.Start.Column);
                        }
                        _open.Push(parent with { ExpectKey = parent.Mapping && !parent.ExpectKey });
                    }
                    if (node is MappingStart or SequenceStart)
                    {
                        if (_open.Count >= MaxYamlDepth)
                        {
                            throw new SigmaException($"YAML nested more than {MaxYamlDepth} levels deep", (int)node.Start.Line, (int)node.Start.Column);
                        }
                        _open.Push((node is MappingStart, true));
                    }
                    break;
                case MappingEnd or SequenceEnd:
                    _open.Pop();
                    break;
            }
        }
    }
}
