using Hydrant.Analytics;
using Hydrant.Detection;
using Hydrant.Enrichment;
using Hydrant.Enrichment.GeoIp;
using Hydrant.Events;
using Hydrant.Keys;
using Hydrant.Server.Alerts;
using Hydrant.Server.Auth;
using Hydrant.Server.Hosting;
using Hydrant.Server.Monitoring;
using Hydrant.Spool;
using Hydrant.Storage;

namespace Hydrant.Server.Api;

public static class StatsEndpoints
{
    private static readonly TimeSpan AnalyticsStatusLimit = TimeSpan.FromSeconds(5);

    /// <summary>How far back a history request reaches (?seconds=, default the whole hour kept), or null when it is not 1 to 3600.</summary>
    private static long? SecondsOf(HttpContext context) =>
        context.Request.Query["seconds"].ToString() is not { Length: > 0 } text ? 3600
        : long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 3600 ? seconds
        : null;

    /// <summary>The samples as the API shows them: each with the rates since the one before it (per second).</summary>
    private static List<PipelineSampleAnswer> Describe(IReadOnlyList<PipelineSample> samples) => [.. samples.Select((s, i) =>
    {
        var before = i > 0 ? samples[i - 1] : s;
        double Rate(Func<PipelineSample, long> counter) => Math.Round(s.PerSecond(before, counter), 2);
        return new PipelineSampleAnswer(
            Timestamps.ToText(s.AtMs),
            new IngestRates(s.Accepted, Rate(x => x.Accepted), Rate(x => x.Rejected), Rate(x => x.Duplicates), Rate(x => x.Throttled)),
            s.SpoolDepth,
            [.. s.Consumers.Select(c => new ConsumerRate(c.Key, c.Value.Lag, Math.Round(s.PerSecond(before, c.Key), 2)))],
            new AlertRates(Rate(x => x.AlertsRaised), Rate(x => x.AlertsUpdated)));
    })];

    private static StorageWriteCounters StorageOf(StorageWrites writes, long stored)
    {
        var (inserts, bytes) = (writes.MemtableInserts, writes.WalBytes);
        return new StorageWriteCounters(writes.Batches, inserts, bytes,
            stored > 0 ? Math.Round((double)inserts / stored, 2) : 0, stored > 0 ? Math.Round((double)bytes / stored, 1) : 0);
    }

    public static void MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/stats/history", (HttpContext context, PipelineHistory history) =>
            {
                if (SecondsOf(context) is not { } seconds)
                {
                    return Problems.Create(StatusCodes.Status400BadRequest, "bad query", "seconds: a whole number from 1 to 3600");
                }
                return Results.Json(new PipelineHistoryAnswer(
                    history.Interval.TotalSeconds,
                    Describe(history.Since(seconds)),
                    [.. history.AlertsPerHour().Select(h => new HourCount(Timestamps.ToText(h.HourStartMs), h.Count))]), ApiJson.Options);
            })
            .Takes("seconds")
            .RequireScope(Scopes.Query)
            .WithName("StatsHistory")
            .Answers<PipelineHistoryAnswer>(problems: StatusCodes.Status400BadRequest)
            .WithSummary("The pipeline over the last hour (or ?seconds=), one sample every Hydrant:Stats:SampleSeconds: ingest rates, spool depth, each consumer's rate and lag, alerts raised and updated per second; and alerts raised per UTC hour over the last 24 (since the node started)");
        app.MapGet("/v1/stats/history/chart", (HttpContext context, PipelineHistory history, IngestStats stats, TimeProvider time) =>
            {
                var series = context.Request.Query["series"].ToString();
                if (!PipelineCharts.Series.Contains(series))
                {
                    return Problems.Create(StatusCodes.Status400BadRequest, "bad query", "series: one of " + string.Join(", ", PipelineCharts.Series));
                }
                if (SecondsOf(context) is not { } seconds)
                {
                    return Problems.Create(StatusCodes.Status400BadRequest, "bad query", "seconds: a whole number from 1 to 3600");
                }
                context.Response.Headers.CacheControl = "no-store";
                var svg = series switch
                {
                    "alerts-per-hour" => PipelineCharts.RenderHourly(history.AlertsPerHour()),
                    "heat" => PipelineCharts.RenderHeat(stats.ShardWrites()),
                    _ => PipelineCharts.Render(history.Since(seconds), series, time.GetUtcNow().ToUnixTimeMilliseconds()),
                };
                return Results.Text(svg, "image/svg+xml");
            })
            .Takes("series", "seconds")
            .RequireScope(Scopes.Query)
            .WithName("StatsHistoryChart")
            .Answers<string>(contentType: "image/svg+xml", problems: StatusCodes.Status400BadRequest)
            .WithSummary("One chart of the pipeline as SVG: series=ingest|consumers|lag|alerts|spool over ?seconds=, alerts-per-hour (the last 24 UTC hours), heat (events per main shard since the node started)");
        app.MapGet("/v1/stats", async (IngestStats stats, ISpool spool, IDeadLetterStore deadLetters, StoreOptions store, IAnalyticsStore analytics, SpoolConsumerRunner consumers, RuleRegistry rules, HydrantSettings settings, Enricher enricher, EnrichmentSources intel, IServiceProvider services, CancellationToken cancellationToken) =>
            {
                var loaderLag = consumers.LagOf(AnalyticsLoader.ConsumerName);
                // The analytics store may be down (the loader waits, the spool keeps its events):
                // the stats still answer, with the loader's own view of where it stands.
                AnalyticsStatus? loaded = null;
                string? unavailable = null;
                using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    limit.CancelAfter(AnalyticsStatusLimit);
                    try
                    {
                        loaded = await analytics.StatusAsync(limit.Token);
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        unavailable = e.Message;
                    }
                }
                var position = loaded?.Checkpoint ?? loaderLag?.Position ?? 0;
                var shards = stats.ShardWrites();
                var mean = shards.Average();
                var deadLetterCounts = deadLetters.Counts();
                return Results.Json(new StatsAnswer(
                    new IngestCounters(stats.Requests, stats.Accepted, stats.Rejected, stats.Duplicates, stats.Throttled, stats.Commits, stats.Bytes),
                    // With DynamoDB, waitingForClaims: accepted entries whose ids are still being claimed across nodes.
                    new SpoolLevels(spool.Depth, spool.NextSequence, spool.AcceptedSequence - spool.NextSequence, store.SpoolHighWaterMark),
                    new AnalyticsProgress(loaded is not null, unavailable, loaded?.Rows, position, Math.Max(0, spool.AcceptedSequence - position), loaderLag?.Seconds ?? 0, loaded?.SchemaVersion),
                    services.GetService<IKeyWriteRates>() is { } rates
                        ? new StoreKeyRates(rates.UnitsPerKeyPerSecondCap, rates.PeakUnitsPerSecond, [.. rates.Hottest(10).Select(k => new HotKeyAnswer(k.Key, k.UnitsLastSecond, k.PeakUnitsPerSecond))])
                        : null,
                    services.GetServices<ISpoolConsumer>().OfType<Detector>().FirstOrDefault() is { } detector
                        ? new AlertCounters(detector.AlertsRaised, detector.AlertsUpdated, services.GetService<AlertSharing>()?.HandedOn)
                        : null,
                    new RuleCacheCounters(settings.CacheKind, Math.Round(rules.HitRatio, 4), rules.Hits, rules.Misses),
                    new DeadLetterCounts(deadLetterCounts.Values.Sum(), deadLetterCounts),
                    [.. consumers.Lags().Select(l => new ConsumerLagAnswer(l.Consumer, l.Position, l.Events, l.Seconds))],
                    new ShardWrites(SourceShard.MainShards, shards, mean > 0 ? shards.Max() / mean : 0),
                    services.GetService<StorageWrites>() is { } writes ? StorageOf(writes, stats.Accepted - stats.Duplicates) : null,
                    EnrichmentOf(enricher, intel)), ApiJson.Options);
            })
            .RequireScope(Scopes.Query)
            .WithName("Stats")
            .Answers<StatsAnswer>()
            .WithSummary("Ingest counters, spool depth, analytics loading and writes per shard");
    }

    private static EnrichmentCounters EnrichmentOf(Enricher enricher, EnrichmentSources intel)
    {
        static GeoIpCounters? Of(GeoIpDatabase? database) => database is null ? null : new GeoIpCounters(database.Path, database.DatabaseType, database.FailedLookups);
        return new EnrichmentCounters(Of(enricher.City), Of(enricher.Asn),
            [.. intel.Describe().Select(l => new IntelListCounters(l.Name, l.Source, l.Networks, l.Domains, l.Level, l.Hits))]);
    }
}
