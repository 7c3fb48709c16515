using System.Buffers.Binary;
using System.Text;

namespace Hydrant.Events.Formats.Evtx;

/// <summary>An XML element as BinXml describes it: its name, attributes, text and child elements.</summary>
public sealed class XmlNode(string name)
{
    public string Name { get; } = name;
    public List<(string Name, string Value)> Attributes { get; } = [];
    public List<XmlNode> Children { get; } = [];
    public StringBuilder Text { get; } = new();

    /// <summary>
    /// The text as XML writes it, kept only once an entity reference made it differ from the
    /// text escaped (<c>&amp;quot;</c> written as a reference, not as a quote from a value).
    /// </summary>
    public StringBuilder? XmlText { get; private set; }

    /// <summary>Whether it holds text, even empty (a value), as opposed to nothing at all.</summary>
    public bool HasText { get; set; }

    /// <summary>Appends text; <paramref name="xml"/> is how XML wrote it, when not just the text escaped.</summary>
    public void AppendText(string text, string? xml = null)
    {
        if (xml is not null && XmlText is null)
        {
            XmlText = new StringBuilder(EscapeText(Text.ToString()));
        }
        XmlText?.Append(xml ?? EscapeText(text));
        Text.Append(text);
    }

    /// <summary>What XML text escapes: ampersands and angle brackets.</summary>
    public static string EscapeText(string value) =>
        value.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}

/// <summary>Why a record's BinXml could not be read.</summary>
public sealed class BinXmlException(string message) : Exception(message);

/// <summary>
/// Binary XML (MS-EVEN6 "BinXml"), as EVTX event records hold it: tokens for elements,
/// attributes and values, names kept once per chunk, and templates (an element tree with
/// substitutions, defined once per chunk) instantiated with each record's values. Written from
/// libyal's libevtx documentation and MS-EVEN6. Bounded: nesting at most
/// <see cref="EventShape.MaxDepth"/>, every offset checked against the chunk, every template
/// parsed once per chunk, at most <see cref="MaxNodes"/> elements a record.
/// </summary>
public sealed class BinXml
{
    public const int MaxNodes = 10_000;

    private readonly ReadOnlyMemory<byte> _chunk;
    private readonly Dictionary<int, Template> _templates = [];
    private int _nodes;

    /// <summary>A reader over one chunk's bytes (64 KiB): names and templates are offsets into it.</summary>
    public BinXml(ReadOnlyMemory<byte> chunk) => _chunk = chunk;

    private ReadOnlySpan<byte> Chunk => _chunk.Span;

    /// <summary>The record's root element (Event), its BinXml starting at <paramref name="offset"/> within the chunk.</summary>
    /// <exception cref="BinXmlException">The BinXml is cut short, or names what is not there.</exception>
    public XmlNode ReadRecord(int offset, int length)
    {
        _nodes = 0;
        var root = new XmlNode("#document");
        var at = offset;
        Instantiate(ReadItems(ref at, offset + length, 0, untilEndElement: false, inTemplate: false), root, null, 0);
        return root.Children.FirstOrDefault() ?? throw new BinXmlException("the record holds no element");
    }

    private sealed record Template(List<Item> Items);

    /// <summary>What a template's tree holds: an element (with its own items), text, or a substitution.</summary>
    private abstract record Item;

    private sealed record ElementItem(string Name, List<(string Name, List<Item> Value)> Attributes, List<Item> Children) : Item;

    /// <summary>Text; <c>Xml</c> when it came from an entity reference, written as that reference.</summary>
    private sealed record TextItem(string Text, string? Xml = null) : Item;

    private sealed record SubstitutionItem(int Index, bool Optional) : Item;

    private readonly record struct Value(byte Type, int Offset, int Length);

    /// <summary>
    /// Tokens as items, until EOF (or the end of the enclosing element when
    /// <paramref name="untilEndElement"/>). <paramref name="inTemplate"/>: a template's definition,
    /// whose elements have a dependency id; elements outside one (a record written without a
    /// template, as a WEC-forwarded one is, or BinXml inside a value) have none.
    /// </summary>
    private List<Item> ReadItems(ref int at, int end, int depth, bool untilEndElement, bool inTemplate)
    {
        if (depth > EventShape.MaxDepth)
        {
            throw new BinXmlException($"BinXml nested more than {EventShape.MaxDepth} levels");
        }
        var items = new List<Item>();
        while (at < end)
        {
            var token = Byte(ref at, end);
            switch (token & 0x0F)
            {
                case 0x00: // EOF
                    return items;
                case 0x04: // end element
                    if (untilEndElement)
                    {
                        return items;
                    }
                    throw new BinXmlException($"an end of element with none open at {at - 1}");
                case 0x01: // open start element
                    items.Add(ReadElement(ref at, end, hasAttributes: (token & 0x40) != 0, depth, inTemplate));
                    break;
                case var text when MakesText(text):
                    at--;
                    items.Add(ReadValueToken(ref at, end));
                    break;
                case 0x0A: // processing instruction target, then its data
                    ReadName(ref at, end);
                    break;
                case 0x0B:
                    ReadPrefixedUtf16(ref at, end);
                    break;
                case 0x0C: // template instance
                    items.Add(new TemplateInstanceItem(ReadTemplateInstance(ref at, end, depth)));
                    break;
                case 0x0F: // fragment header
                    at += 3;
                    break;
                default:
                    throw new BinXmlException($"unknown BinXml token 0x{token:x2} at {at - 1}");
            }
        }
        throw new BinXmlException("the BinXml is cut short");
    }

    /// <summary>A template instance as an item: the template's tree and the record's values for it.</summary>
    private sealed record TemplateInstanceItem((Template Template, Value[] Values) Instance) : Item;

    private ElementItem ReadElement(ref int at, int end, bool hasAttributes, int depth, bool inTemplate)
    {
        if (inTemplate)
        {
            at += 2; // dependency id
        }
        var size = Within(ref at, end);
        var elementEnd = at + size;
        var name = ReadName(ref at, end);
        var attributes = new List<(string, List<Item>)>();
        if (hasAttributes)
        {
            var listSize = Within(ref at, end);
            var listEnd = Math.Min(at + listSize, end);
            while (at < listEnd)
            {
                var token = Byte(ref at, end);
                if ((token & 0x0F) != 0x06)
                {
                    throw new BinXmlException($"an attribute list holds token 0x{token:x2}");
                }
                var attributeName = ReadName(ref at, end);
                attributes.Add((attributeName, ReadAttributeValue(ref at, end)));
                if ((token & 0x40) == 0)
                {
                    break; // the last attribute
                }
            }
        }
        var close = Byte(ref at, end);
        List<Item> children = [];
        switch (close)
        {
            case 0x02: // close start element: content, then its end
                children = ReadItems(ref at, Math.Min(Math.Max(elementEnd, at), end), depth + 1, untilEndElement: true, inTemplate);
                break;
            case 0x03: // empty element
                break;
            default:
                throw new BinXmlException($"element {name} is not closed (token 0x{close:x2})");
        }
        return new ElementItem(name, attributes, children);
    }

    /// <summary>An attribute's value: text, entity or character references, or a substitution, up to the next attribute or the element's close.</summary>
    private List<Item> ReadAttributeValue(ref int at, int end)
    {
        var value = new List<Item>();
        while (at < end)
        {
            if (!MakesText(Chunk[at] & 0x0F))
            {
                break;
            }
            value.Add(ReadValueToken(ref at, end));
        }
        return value;
    }

    /// <summary>Whether a token (its low four bits) is one <see cref="ReadValueToken"/> reads.</summary>
    private static bool MakesText(int token) => token is 0x05 or 0x07 or 0x08 or 0x09 or 0x0D or 0x0E;

    /// <summary>One token that makes text: a value, CDATA, a character or entity reference, or a (normal or optional) substitution.</summary>
    private Item ReadValueToken(ref int at, int end)
    {
        var token = Byte(ref at, end);
        switch (token & 0x0F)
        {
            case 0x05:
                var type = Byte(ref at, end);
                return new TextItem(type == 0x01 ? ReadPrefixedUtf16(ref at, end) : throw new BinXmlException($"a value token of type 0x{type:x2}"));
            case 0x07:
                return new TextItem(ReadPrefixedUtf16(ref at, end));
            case 0x08:
                return new TextItem(((char)UInt16(ref at, end)).ToString());
            case 0x09:
                var entity = ReadName(ref at, end);
                return new TextItem(Entity(entity), "&" + entity + ";");
            default:
                var index = UInt16(ref at, end);
                Byte(ref at, end); // the value type, which the value itself carries
                return new SubstitutionItem(index, (token & 0x0F) == 0x0E);
        }
    }

    private (Template Template, Value[] Values) ReadTemplateInstance(ref int at, int end, int depth)
    {
        at += 1; // unknown
        UInt32(ref at, end); // template id
        var definition = Within(ref at, end);
        if (definition < EvtxFile.ChunkHeaderSize || definition + 24 > Chunk.Length)
        {
            throw new BinXmlException($"a template defined at {definition}, outside the chunk");
        }
        var body = definition + 4 + 16; // next template offset, GUID
        var size = Within(ref body, Chunk.Length);
        var definitionEnd = Math.Min(body + size, Chunk.Length);
        if (!_templates.TryGetValue(definition, out var template))
        {
            // A template's elements have dependency ids, also when it is instantiated inside a value.
            template = new Template(ReadItems(ref body, definitionEnd, depth + 1, untilEndElement: false, inTemplate: true));
            _templates[definition] = template;
        }
        if (definition == at)
        {
            at = definitionEnd; // defined here, inline: the values follow it
        }
        var count = Within(ref at, end);
        if (count > 4096)
        {
            throw new BinXmlException($"a template instance with {count} values");
        }
        var sizes = new (int Size, byte Type)[count];
        for (var i = 0; i < count; i++)
        {
            sizes[i] = (UInt16(ref at, end), Byte(ref at, end));
            at += 1;
        }
        var values = new Value[count];
        for (var i = 0; i < count; i++)
        {
            if (at + sizes[i].Size > end)
            {
                throw new BinXmlException("a template value runs past the record");
            }
            values[i] = new Value(sizes[i].Type, at, sizes[i].Size);
            at += sizes[i].Size;
        }
        return (template, values);
    }

    /// <summary>Makes the nodes a tree of items describes, with the values substituted.</summary>
    private void Instantiate(List<Item> items, XmlNode parent, Value[]? values, int depth)
    {
        if (depth > EventShape.MaxDepth)
        {
            throw new BinXmlException($"BinXml nested more than {EventShape.MaxDepth} levels");
        }
        foreach (var item in items)
        {
            switch (item)
            {
                case ElementItem element:
                    if (++_nodes > MaxNodes)
                    {
                        throw new BinXmlException($"a record of more than {MaxNodes} elements");
                    }
                    if (element.Children is [SubstitutionItem array] && values is not null && array.Index < values.Length && (values[array.Index].Type & 0x80) != 0)
                    {
                        // An array value repeats its element once per item.
                        var value = values[array.Index];
                        foreach (var part in EvtxValues.Items(value.Type, Chunk.Slice(value.Offset, value.Length)))
                        {
                            var repeated = new XmlNode(element.Name) { HasText = part.Length > 0 };
                            repeated.AppendText(part);
                            Instantiate(element.Attributes, repeated, values, depth);
                            parent.Children.Add(repeated);
                        }
                        continue;
                    }
                    var node = new XmlNode(element.Name);
                    Instantiate(element.Attributes, node, values, depth);
                    Instantiate(element.Children, node, values, depth + 1);
                    parent.Children.Add(node);
                    break;
                case TextItem text:
                    parent.AppendText(text.Text, text.Xml);
                    parent.HasText = true;
                    break;
                case SubstitutionItem substitution:
                    if (values is not null && substitution.Index < values.Length)
                    {
                        Substitute(values[substitution.Index], parent, depth);
                    }
                    // An element whose value is missing or empty is still there, empty (<Binary></Binary>).
                    parent.HasText = true;
                    break;
                case TemplateInstanceItem instance:
                    Instantiate(instance.Instance.Template.Items, parent, instance.Instance.Values, depth + 1);
                    break;
            }
        }
    }

    private void Instantiate(List<(string Name, List<Item> Value)> attributes, XmlNode node, Value[]? values, int depth)
    {
        foreach (var (name, value) in attributes)
        {
            if (value is [SubstitutionItem { Optional: true } empty] && IsEmpty(values, empty.Index))
            {
                continue;
            }
            var text = new XmlNode(name);
            Instantiate(value, text, values, depth + 1);
            node.Attributes.Add((name, text.Text.ToString()));
        }
    }

    private static bool IsEmpty(Value[]? values, int index) => values is null || index >= values.Length || values[index].Type == 0x00;

    private void Substitute(Value value, XmlNode parent, int depth)
    {
        if (value.Type == 0x21)
        {
            // BinXml inside a value: a fragment of its own (often a template instance).
            var at = value.Offset;
            Instantiate(ReadItems(ref at, value.Offset + value.Length, depth + 1, untilEndElement: false, inTemplate: false), parent, null, depth + 1);
            return;
        }
        parent.AppendText(EvtxValues.Text(value.Type, Chunk.Slice(value.Offset, value.Length)));
        parent.HasText = true;
    }

    private string ReadName(ref int at, int end)
    {
        var offset = Within(ref at, end);
        if (offset == at)
        {
            // Defined here: skip over it after reading.
            var name = NameAt(offset);
            at += 8 + (name.Length * 2) + 2;
            return name;
        }
        return NameAt(offset);
    }

    private string NameAt(int offset)
    {
        if (offset < 0 || offset + 8 > Chunk.Length)
        {
            throw new BinXmlException($"a name at {offset}, outside the chunk");
        }
        var count = BinaryPrimitives.ReadUInt16LittleEndian(Chunk[(offset + 6)..]);
        if (offset + 8 + (count * 2) > Chunk.Length)
        {
            throw new BinXmlException($"a name at {offset} runs past the chunk");
        }
        return Encoding.Unicode.GetString(Chunk.Slice(offset + 8, count * 2));
    }

    private string ReadPrefixedUtf16(ref int at, int end)
    {
        var count = UInt16(ref at, end);
        if (at + (count * 2) > end)
        {
            throw new BinXmlException("a string runs past the record");
        }
        var text = Encoding.Unicode.GetString(Chunk.Slice(at, count * 2));
        at += count * 2;
        return text;
    }

    private static string Entity(string name) => name switch
    {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "&" + name + ";",
    };

    private byte Byte(ref int at, int end) => at < end && at < Chunk.Length ? Chunk[at++] : throw new BinXmlException("the BinXml is cut short");

    private ushort UInt16(ref int at, int end)
    {
        if (at + 2 > end || at + 2 > Chunk.Length)
        {
            throw new BinXmlException("the BinXml is cut short");
        }
        var value = BinaryPrimitives.ReadUInt16LittleEndian(Chunk[at..]);
        at += 2;
        return value;
    }

    /// <summary>A size or offset, which within a chunk is at most 64 KiB.</summary>
    private int Within(ref int at, int end)
    {
        var value = UInt32(ref at, end);
        return value <= EvtxFile.ChunkSize ? (int)value : throw new BinXmlException($"a size or offset of {value}, past the chunk");
    }

    private uint UInt32(ref int at, int end)
    {
        if (at + 4 > end || at + 4 > Chunk.Length)
        {
            throw new BinXmlException("the BinXml is cut short");
        }
        var value = BinaryPrimitives.ReadUInt32LittleEndian(Chunk[at..]);
        at += 4;
        return value;
    }
}
