using System.Text;

namespace Hydrant.Events.Fields;

/// <summary>
/// A field name as rules and queries ask for it (<c>CommandLine</c>, <c>userIdentity.type</c>):
/// its UTF-8 bytes and hash are computed once, when the rule is compiled, not per event.
/// </summary>
public sealed class FieldName
{
    private FieldName(string text)
    {
        Text = text;
        Utf8 = Encoding.UTF8.GetBytes(text);
        Hash = EventFields.HashOf(Utf8);
    }

    public string Text { get; }

    internal byte[] Utf8 { get; }

    internal ulong Hash { get; }

    public static FieldName Of(string text) => new(text);

    public override string ToString() => Text;
}
