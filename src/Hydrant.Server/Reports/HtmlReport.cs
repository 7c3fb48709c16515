using System.Globalization;
using System.Net;
using System.Text;
using Hydrant.Reports;
using ScottPlot;

namespace Hydrant.Server.Reports;

/// <summary>
/// A daily report as one self-contained HTML page: its charts are ScottPlot SVG inlined in the
/// page, styles inline, no scripts and nothing fetched, so it can be mailed or archived as is.
/// Every name from the data (types, addresses, rule ids) is encoded, in the page and in the charts.
/// </summary>
public static class HtmlReport
{
    private const int ChartWidth = 760;
    private const int ListedRows = 20;

    public static string Render(DailyReport report)
    {
        var c = CultureInfo.InvariantCulture;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append(c, $"<title>Hydrant daily report {Encode(report.Date)}</title>");
        html.Append("<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:820px;color:#222}")
            .Append("h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}.cards{display:flex;gap:1em;flex-wrap:wrap}")
            .Append(".card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}.card b{display:block;font-size:1.4em}")
            .Append("table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right}")
            .Append("svg{max-width:100%;height:auto}</style></head><body>\n");
        html.Append(c, $"<h1>Hydrant daily report {Encode(report.Date)} (UTC)</h1>\n<div class=\"cards\">");
        Card(html, "Events", report.TotalEvents.ToString("N0", c));
        Card(html, "Alerts", report.Alerts.Total.ToString("N0", c));
        Card(html, "New sources", report.NewSources.Count.ToString("N0", c));
        Card(html, "Partition heat (max/mean)", report.PartitionHeat.MaxOverMean.ToString("0.###", c));
        html.Append("</div>\n");

        html.Append("<h2>Events per hour (UTC)</h2>\n")
            .Append(Chart([.. report.ByHour.Select((n, hour) => (hour.ToString("00", c), (double)n))], horizontal: false, "events"));
        html.Append("<h2>Events per type</h2>\n")
            .Append(Chart([.. report.ByType.Select(t => (t.Key, (double)t.Value))], horizontal: true, "events"));
        html.Append("<h2>Top sources</h2>\n")
            .Append(Chart([.. report.TopSources.Select(s => (s.SourceIP, (double)s.Count))], horizontal: true, "events"));
        html.Append("<h2>Alerts per level</h2>\n")
            .Append(Chart([.. report.Alerts.ByLevel.Select(l => (l.Key, (double)l.Value))], horizontal: false, "alerts"));

        Table(html, "Alerts per rule", "Rule", report.Alerts.ByRule.Select(r => (report.Alerts.NameOf(r.Key), r.Value)));
        Table(html, "Top sources", "Source IP", report.TopSources.Select(s => (s.SourceIP, s.Count)));
        if (!report.Enrichment.IsEmpty)
        {
            var enrichment = report.Enrichment;
            Table(html, "Top countries (of sources)", "Country", enrichment.TopCountries.Select(p => ($"{p.CountryName ?? p.CountryIsoCode} ({p.CountryIsoCode})", p.Events)));
            Table(html, "Top networks (of sources)", "AS", enrichment.TopNetworks.Select(n => (string.Create(c, $"AS{n.Number} {n.Organization}").TrimEnd(), n.Events)));
            Table(html, "Intel matches (events whose source a list held)", "List", enrichment.IntelMatches.Select(m => (string.Create(c, $"{m.List} ({m.Sources:N0} sources)"), m.Events)));
        }
        html.Append(c, $"<h2>New sources ({report.NewSources.Count:N0}, not seen in the {DailyReport.NewSourceLookbackDays} days before)</h2>\n<p>");
        html.AppendJoin(", ", report.NewSources.Take(MarkdownReport.ListedNewSources).Select(Encode));
        if (report.NewSources.Count > MarkdownReport.ListedNewSources)
        {
            html.Append(c, $" and {report.NewSources.Count - MarkdownReport.ListedNewSources:N0} more");
        }
        html.Append("</p>\n</body></html>\n");
        return html.ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static void Card(StringBuilder html, string label, string value) =>
        html.Append("<div class=\"card\">").Append(Encode(label)).Append("<b>").Append(Encode(value)).Append("</b></div>");

    private static void Table(StringBuilder html, string title, string keyHeader, IEnumerable<(string Key, long Count)> rows)
    {
        html.Append("<h2>").Append(Encode(title)).Append("</h2>\n<table><tr><th>").Append(Encode(keyHeader)).Append("</th><th>Count</th></tr>");
        var any = false;
        foreach (var (key, count) in rows.Take(ListedRows))
        {
            html.Append("<tr><td>").Append(Encode(key)).Append("</td><td class=\"n\">").Append(count.ToString("N0", CultureInfo.InvariantCulture)).Append("</td></tr>");
            any = true;
        }
        if (!any)
        {
            html.Append("<tr><td colspan=\"2\">none</td></tr>");
        }
        html.Append("</table>\n");
    }

    /// <summary>A bar chart as SVG markup.</summary>
    private static string Chart(IReadOnlyList<(string Label, double Value)> bars, bool horizontal, string unit)
    {
        if (bars.Count == 0)
        {
            return "<p>none</p>\n";
        }
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        var shown = horizontal ? bars.Reverse().ToArray() : [.. bars]; // the biggest on top
        var series = plot.Add.Bars(shown.Select(b => b.Value).ToArray());
        series.Horizontal = horizontal;
        var positions = Enumerable.Range(0, shown.Length).Select(i => (double)i).ToArray();
        var labels = shown.Select(b => b.Label).ToArray(); // Skia's SVG writer escapes text itself
        if (horizontal)
        {
            plot.Axes.Left.SetTicks(positions, labels);
            plot.Axes.Bottom.Label.Text = unit;
            plot.Axes.Margins(left: 0);
        }
        else
        {
            plot.Axes.Bottom.SetTicks(positions, labels);
            plot.Axes.Left.Label.Text = unit;
            plot.Axes.Margins(bottom: 0);
        }
        var height = horizontal ? Math.Max(160, 28 * shown.Length + 60) : 280;
        var svg = plot.GetSvgXml(ChartWidth, height);
        // Inline SVG may not carry an XML declaration.
        return svg[svg.IndexOf("<svg", StringComparison.Ordinal)..] + "\n";
    }
}
