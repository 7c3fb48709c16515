using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Hydrant.Detection.Sigma;

/// <summary>Values: what expand, windash and the encodings make of one, within the rule's budget.</summary>
public sealed partial class SigmaCompiler
{
    /// <summary>
    /// expand, windash and the encodings, in that order; each may turn one value into several, so
    /// each step is bounded (<see cref="RuleLimits.MaxValuesPerField"/>, <see cref="RuleLimits.MaxCharsPerField"/>)
    /// before the next runs: base64offset thrice per step would otherwise grow without limit.
    /// </summary>
    private List<Value> Expand(List<Value> values, Modifiers spec, ValueBudget budget)
    {
        var result = Bounded(values);
        if (spec.Expand)
        {
            result = Bounded(result.SelectMany(ExpandPlaceholders));
        }
        if (spec.Windash)
        {
            result = Bounded(result.SelectMany(v => Dashes.Select(d => Value.FromPattern(WindashVariant(v.Text, d))).DistinctBy(x => x.Text)));
        }
        foreach (var encoding in spec.Encodings)
        {
            result = Bounded(result.SelectMany(v => Encode(v, encoding)));
        }
        budget.Spend(result.Count);
        return result;
    }

    private static List<Value> Bounded(IEnumerable<Value> values)
    {
        var list = new List<Value>();
        long chars = 0;
        foreach (var value in values)
        {
            chars += value.Text.Length;
            if (list.Count == RuleLimits.MaxValuesPerField || chars > RuleLimits.MaxCharsPerField)
            {
                throw new SigmaException($"the values expand past {RuleLimits.MaxValuesPerField} values or {RuleLimits.MaxCharsPerField} characters for one field");
            }
            list.Add(value);
        }
        return list;
    }

    private static string WindashVariant(string text, char dash)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (Array.IndexOf(Dashes, chars[i]) >= 0)
            {
                chars[i] = dash;
            }
        }
        return new string(chars);
    }

    /// <summary>Every combination of the configured values of the value's %placeholders%, generated lazily (the caller bounds how many are taken).</summary>
    private IEnumerable<Value> ExpandPlaceholders(Value value)
    {
        var matches = Regex.Matches(value.Text, @"(?<!\\)%(?<name>[^%]+)%");
        if (matches.Count == 0)
        {
            yield return value;
            yield break;
        }
        if (matches.Count > MaxPlaceholdersPerValue)
        {
            throw new SigmaException($"a value may hold at most {MaxPlaceholdersPerValue} placeholders");
        }
        var choices = new List<IReadOnlyList<string>>();
        foreach (Match match in matches)
        {
            choices.Add(options.Placeholders.TryGetValue(match.Groups["name"].Value, out var replacements) && replacements.Count > 0
                ? replacements
                : throw new SigmaException($"placeholder %{match.Groups["name"].Value}% has no configured values"));
        }
        // An odometer over the choices: the last placeholder turns fastest.
        var at = new int[choices.Count];
        while (true)
        {
            var text = new StringBuilder();
            var from = 0;
            for (var i = 0; i < matches.Count; i++)
            {
                text.Append(value.Text, from, matches[i].Index - from).Append(choices[i][at[i]]);
                from = matches[i].Index + matches[i].Length;
            }
            yield return Value.FromPattern(text.Append(value.Text, from, value.Text.Length - from).ToString());
            var digit = choices.Count - 1;
            while (digit >= 0 && ++at[digit] == choices[digit].Count)
            {
                at[digit--] = 0;
            }
            if (digit < 0)
            {
                yield break;
            }
        }
    }

    /// <summary>Encodings work on bytes: a value is encoded as UTF-8 unless a utf16 step made bytes of it already.</summary>
    private static IEnumerable<Value> Encode(Value value, string encoding)
    {
        var bytes = value.Bytes ?? Encoding.UTF8.GetBytes(value.Text);
        switch (encoding)
        {
            case "base64":
                yield return Value.FromLiteral(Convert.ToBase64String(bytes));
                break;
            case "base64offset":
                for (var shift = 0; shift < 3; shift++)
                {
                    // The part of the encoding that stays the same wherever the value sits in a longer string.
                    var shifted = new byte[shift + bytes.Length];
                    bytes.CopyTo(shifted, shift);
                    var encoded = Convert.ToBase64String(shifted);
                    var start = new[] { 0, 2, 3 }[shift];
                    var end = new[] { 0, 3, 2 }[(bytes.Length + shift) % 3];
                    // A value too short to leave a stable part at this offset has no variant there:
                    // an empty one would match every string.
                    if (encoded.Length - end > start)
                    {
                        yield return Value.FromLiteral(encoded[start..(encoded.Length - end)]);
                    }
                }
                break;
            case "utf16le":
            case "wide":
                yield return Value.FromBytes(Encoding.Unicode.GetBytes(value.Text));
                break;
            case "utf16be":
                yield return Value.FromBytes(Encoding.BigEndianUnicode.GetBytes(value.Text));
                break;
            default: // utf16: with a byte order mark
                yield return Value.FromBytes([0xFF, 0xFE, .. Encoding.Unicode.GetBytes(value.Text)]);
                break;
        }
    }

    private static List<Value> ScalarValues(YamlSequenceNode list) => [.. list.Children.Select(ScalarValue)];

    private static Value ScalarValue(YamlNode node)
    {
        if (node is not YamlScalarNode scalar)
        {
            throw Error(node, "a value must be a scalar");
        }
        var text = scalar.Value ?? string.Empty;
        var isNull = scalar.Style == ScalarStyle.Plain && text is "" or "null" or "~" or "Null" or "NULL";
        return isNull ? Value.Null : Value.FromPattern(text);
    }

    private const int MaxPlaceholdersPerValue = 16;

    /// <summary>Values one document may still expand to, over all its fields (<see cref="RuleLimits.MaxValuesPerRule"/>).</summary>
    private sealed class ValueBudget
    {
        private int _left = RuleLimits.MaxValuesPerRule;

        public void Spend(int values)
        {
            _left -= values;
            if (_left < 0)
            {
                throw new SigmaException($"the rule's values expand past {RuleLimits.MaxValuesPerRule} in all");
            }
        }
    }

    /// <summary>A rule value on its way through the modifiers.</summary>
    private sealed record Value(string Text, SigmaString Pattern, byte[]? Bytes, bool IsNull)
    {
        public static readonly Value Null = new(string.Empty, SigmaString.Literal(string.Empty), null, IsNull: true);

        public static Value FromPattern(string text) => new(text, SigmaString.Parse(text), null, false);

        public static Value FromLiteral(string text) => new(text, SigmaString.Literal(text), null, false);

        /// <summary>Bytes matched as text: each byte one character, as in a log that printed them.</summary>
        public static Value FromBytes(byte[] bytes)
        {
            var text = Encoding.Latin1.GetString(bytes);
            return new Value(text, SigmaString.Literal(text), bytes, false);
        }
    }
}
