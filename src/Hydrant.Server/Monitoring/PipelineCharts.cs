using ScottPlot;

namespace Hydrant.Server.Monitoring;

/// <summary>The pipeline history drawn as SVG line charts (ScottPlot), for the console's pipeline view.</summary>
public static class PipelineCharts
{
    public static readonly IReadOnlyList<string> Series = ["ingest", "consumers", "lag", "alerts", "spool", "alerts-per-hour", "heat"];

    private const int Width = 640;
    private const int Height = 260;

    /// <summary>Alerts raised in each of the last 24 hours, as bars (hours before now along the bottom).</summary>
    public static string RenderHourly(IReadOnlyList<(long HourStartMs, long Count)> hours)
    {
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        var bars = plot.Add.Bars(hours.Select((_, i) => (double)(i - (hours.Count - 1))).ToArray(), hours.Select(h => (double)h.Count).ToArray());
        bars.LegendText = "alerts raised";
        plot.Title("Alerts raised per hour (UTC hours, this node)");
        plot.Axes.Bottom.Label.Text = "hours ago (0 = this hour)";
        plot.Axes.Margins(bottom: 0);
        return plot.GetSvgXml(Width, Height);
    }

    /// <summary>Events written to each main shard, with the mean: the partition heat the key scheme exists to keep flat.</summary>
    public static string RenderHeat(IReadOnlyList<long> shardWrites)
    {
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        var bars = plot.Add.Bars(shardWrites.Select(w => (double)w).ToArray());
        bars.LegendText = "events";
        var mean = shardWrites.Count > 0 ? shardWrites.Average() : 0;
        var line = plot.Add.HorizontalLine(mean);
        line.LegendText = "mean";
        var max = shardWrites.Count > 0 ? shardWrites.Max() : 0;
        plot.Title(mean > 0 ? $"Events per shard (busiest / mean {max / mean:0.00})" : "Events per shard (none yet)");
        plot.Axes.Bottom.Label.Text = "shard (hash(sourceIP) % 100)";
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetSvgXml(Width, Height);
    }

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
