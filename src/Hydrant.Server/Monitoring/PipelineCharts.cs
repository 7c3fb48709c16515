using ScottPlot;

namespace Hydrant.Server.Monitoring;

/// <summary>The pipeline history drawn as SVG line charts (ScottPlot), for the console's pipeline view.</summary>
public static class PipelineCharts
{
    public static readonly IReadOnlyList<string> Series = ["ingest", "consumers", "lag", "alerts", "spool"];

    private const int Width = 640;
    private const int Height = 260;

    /// <summary>One chart of the samples: time in seconds before now along the bottom.</summary>
    public static string Render(IReadOnlyList<PipelineSample> samples, string series, long nowMs)
    {
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        double Ago(PipelineSample s) => (s.AtMs - nowMs) / 1000.0;
        void Line(string label, Func<PipelineSample, PipelineSample, double> value)
        {
            if (samples.Count < 2)
            {
                return;
            }
            var pairs = samples.Skip(1).Select((s, i) => (X: Ago(s), Y: value(s, samples[i]))).ToArray();
            var line = plot.Add.Scatter(pairs.Select(p => p.X).ToArray(), pairs.Select(p => p.Y).ToArray());
            line.LegendText = label;
            line.MarkerSize = 0;
        }
        var names = samples.SelectMany(s => s.Consumers.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        switch (series)
        {
            case "ingest":
                Line("accepted/s", (s, b) => s.PerSecond(b, x => x.Accepted));
                Line("rejected/s", (s, b) => s.PerSecond(b, x => x.Rejected));
                Line("duplicates/s", (s, b) => s.PerSecond(b, x => x.Duplicates));
                plot.Title("Ingest (events per second)");
                break;
            case "consumers":
                foreach (var name in names)
                {
                    Line(name, (s, b) => s.PerSecond(b, name));
                }
                plot.Title("Consumers (events per second)");
                break;
            case "lag":
                foreach (var name in names)
                {
                    Line(name, (s, _) => s.Consumers.TryGetValue(name, out var now) ? now.Lag : 0);
                }
                plot.Title("Consumer lag (events)");
                break;
            case "alerts":
                Line("raised/s", (s, b) => s.PerSecond(b, x => x.AlertsRaised));
                Line("updated/s", (s, b) => s.PerSecond(b, x => x.AlertsUpdated));
                plot.Title("Alerts (per second)");
                break;
            default:
                Line("spool depth", (s, _) => s.SpoolDepth);
                plot.Title("Spool depth (entries)");
                break;
        }
        plot.Axes.Bottom.Label.Text = "seconds ago";
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetSvgXml(Width, Height);
    }
}
