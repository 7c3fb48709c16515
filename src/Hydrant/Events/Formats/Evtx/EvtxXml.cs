using System.Text;

namespace Hydrant.Events.Formats.Evtx;

/// <summary>An event as XML text, indented two spaces a level, as Event Viewer's "XML view" and the evtx crate show it.</summary>
public static class EvtxXml
{
    public static string Render(XmlNode root)
    {
        var text = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        Render(root, text, 0);
        return text.ToString();
    }

    private static void Render(XmlNode node, StringBuilder text, int depth)
    {
        var indent = new string(' ', depth * 2);
        text.Append(indent).Append('<').Append(node.Name);
        foreach (var (name, value) in node.Attributes)
        {
            text.Append(' ').Append(name).Append("=\"").Append(XmlNode.EscapeText(value).Replace("\"", "&quot;", StringComparison.Ordinal)).Append('"');
        }
        text.Append('>');
        if (node.Children.Count == 0 && node.HasText)
        {
            text.Append(node.XmlText?.ToString() ?? XmlNode.EscapeText(node.Text.ToString())).Append("</").Append(node.Name).Append(">\n");
            return;
        }
        text.Append('\n');
        foreach (var child in node.Children)
        {
            Render(child, text, depth + 1);
        }
        text.Append(indent).Append("</").Append(node.Name).Append(">\n");
    }
}
