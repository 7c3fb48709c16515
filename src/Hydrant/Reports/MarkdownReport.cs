using System.Globalization;
using System.Text;

namespace Hydrant.Reports;

/// <summary>A daily report as Markdown tables, for chat, tickets and terminals.</summary>
public static class MarkdownReport
{
    /// <summary>New sources beyond this many are counted, not listed (the JSON has them all).</summary>
    public const int ListedNewSources = 100;

    public static string Render(DailyReport report)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"# Hydrant daily report {report.Date} (UTC)\n\n");
        text.Append(c, $"- Events: **{report.TotalEvents:N0}**\n");
        text.Append(c, $"- Alerts: **{report.Alerts.Total:N0}**\n");
        text.Append(c, $"- New sources (not seen in the {DailyReport.NewSourceLookbackDays} days before): **{report.NewSources.Count:N0}**\n");
        text.Append(c, $"- Partition heat (busiest shard over mean): **{report.PartitionHeat.MaxOverMean:0.###}**\n\n");

        Table(text, "Events per type", ["Type", "Events"], report.ByType.Select(t => new[] { t.Key, Count(t.Value) }));
        Table(text, "Events per hour", ["Hour (UTC)", "Events"], report.ByHour.Select((n, hour) => new[] { hour.ToString("00", c) + ":00", Count(n) }));
        Table(text, "Top sources", ["Source IP", "Events"], report.TopSources.Select(s => new[] { s.SourceIP, Count(s.Count) }));
        Table(text, "Alerts per level", ["Level", "Alerts"], report.Alerts.ByLevel.Select(l => new[] { l.Key, Count(l.Value) }));
        Table(text, "Alerts per rule", ["Rule", "Alerts"], report.Alerts.ByRule.Select(r => new[] { report.Alerts.NameOf(r.Key), Count(r.Value) }));
        if (!report.Enrichment.IsEmpty)
        {
            var enrichment = report.Enrichment;
            Table(text, "Top countries (of sources)", ["Country", "Events"], enrichment.TopCountries.Select(p => new[] { $"{p.CountryName ?? p.CountryIsoCode} ({p.CountryIsoCode})", Count(p.Events) }));
            Table(text, "Top networks (of sources)", ["AS", "Events"], enrichment.TopNetworks.Select(n => new[] { string.Create(c, $"AS{n.Number} {n.Organization}").TrimEnd(), Count(n.Events) }));
            Table(text, "Intel matches (of sources)", ["List", "Events", "Sources"], enrichment.IntelMatches.Select(m => new[] { m.List, Count(m.Events), Count(m.Sources) }));
        }

        text.Append("## New sources\n\n");
        if (report.NewSources.Count == 0)
        {
            text.Append("None.\n");
        }
        foreach (var source in report.NewSources.Take(ListedNewSources))
        {
            text.Append(c, $"- {Escape(source)}\n");
        }
        if (report.NewSources.Count > ListedNewSources)
        {
            text.Append(c, $"- and {report.NewSources.Count - ListedNewSources:N0} more\n");
        }
        return text.ToString();
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static void Table(StringBuilder text, string title, string[] header, IEnumerable<string[]> rows)
    {
        text.Append("## ").Append(title).Append("\n\n");
        text.Append("| ").AppendJoin(" | ", header).Append(" |\n");
        text.Append('|').AppendJoin('|', header.Select((_, i) => i == 0 ? "---" : "---:")).Append("|\n");
        var any = false;
        foreach (var row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(Escape)).Append(" |\n");
            any = true;
        }
        if (!any)
        {
            text.Append("| none |").Append(string.Concat(Enumerable.Repeat(" |", header.Length - 1))).Append('\n');
        }
        text.Append('\n');
    }

    /// <summary>
    /// Names from the data (event types, sources, rule ids) are written by whoever sent the events:
    /// every character Markdown or HTML gives a meaning is escaped, and line breaks become spaces,
    /// so a name cannot end a table, add a link or an image, or inject HTML.
    /// </summary>
    internal static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var ch in text)
        {
            switch (ch)
            {
                case '\r' or '\n':
                    escaped.Append(' ');
                    break;
                case '<':
                    escaped.Append("&lt;");
                    break;
                case '>':
                    escaped.Append("&gt;");
                    break;
                case '&':
                    escaped.Append("&amp;");
                    break;
                // Inside a table cell or a list item nothing starts a line, so '#', '-' and digits
                // mean nothing there; with the brackets escaped no link or image can form.
                case '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '~':
                    escaped.Append('\\').Append(ch);
                    break;
                default:
                    escaped.Append(ch);
                    break;
            }
        }
        return escaped.ToString();
    }
}
