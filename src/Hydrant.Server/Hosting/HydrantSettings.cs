using Hydrant.Analytics;
using Hydrant.Detection;
using Hydrant.Detection.Correlation;
using Hydrant.Events;
using Hydrant.Server.Alerts;
using Hydrant.Server.Auth;
using Hydrant.Storage;

namespace Hydrant.Server.Hosting;

/// <summary>The "Hydrant" configuration section, read once at start into immutable options.</summary>
public sealed record HydrantSettings(StoreOptions Store, EventLimits Limits, IReadOnlyList<ApiKey> Keys, string StoreKind, string? RulesPath, DetectionOptions Detection, IReadOnlyList<WebhookOptions> Webhooks, AnalyticsSettings Analytics, string CacheKind)
{
    /// <summary>Whether the rules run on every event (off: no alerts; a node that only stores, or ingest measured alone).</summary>
    public bool DetectionEnabled { get; init; } = true;

    /// <summary>Whether every event is loaded into the analytics store (off: SQL and reports see no new events).</summary>
    public bool AnalyticsLoading { get; init; } = true;

    /// <summary>What ingest adds to events (docs/enrichment.md); none configured: nothing.</summary>
    public EnrichmentSettings Enrichment { get; init; } = new(null, null, [], []);

    public static HydrantSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Hydrant");
        var store = new StoreOptions
        {
            DataPath = section["Data"] ?? "./hydrant-data",
            Retention = TimeSpan.FromDays(section.GetValue("Retention:Days", 90)),
            SpoolHighWaterMark = section.GetValue("Spool:HighWaterMark", new StoreOptions().SpoolHighWaterMark),
            MaxExaminedPerPage = Math.Max(1, section.GetValue("Query:MaxExaminedPerPage", new StoreOptions().MaxExaminedPerPage)),
        };
        var limits = new EventLimits
        {
            MaxEventBytes = section.GetValue("Ingest:MaxEventBytes", EventLimits.DefaultMaxEventBytes),
            MaxBodyBytes = section.GetValue("Ingest:MaxBodyBytes", EventLimits.DefaultMaxBodyBytes),
            MaxAge = store.Retention,
        };
        // Every consumer must be able to keep what ingest accepts: DynamoDB keeps no item over 400 KB.
        var maxEventBytes = (section["Store:Kind"] ?? "rocksdb") == "dynamodb" ? EventLimits.MaxEventBytesForDynamoDb : EventLimits.MaxEventBytesAllowed;
        limits = limits with { MaxStoredEventBytes = maxEventBytes };
        if (limits.MaxEventBytes is < 1024 || limits.MaxEventBytes > maxEventBytes || limits.MaxBodyBytes < limits.MaxEventBytes)
        {
            throw new InvalidOperationException(
                $"Hydrant:Ingest:MaxEventBytes must be from 1024 to {maxEventBytes} with this store, and Hydrant:Ingest:MaxBodyBytes at least as much");
        }
        if (store.Retention <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Hydrant:Retention:Days must be 1 or more");
        }
        var keys = section.GetSection("Auth:Keys").GetChildren()
            .Select(k => ApiKey.From(k["Key"], k.GetSection("Scopes").GetChildren().Select(s => s.Value ?? string.Empty), k["Name"]))
            .ToList();
        var kind = section["Store:Kind"] ?? "rocksdb";
        var detection = new DetectionOptions
        {
            SuppressionWindow = TimeSpan.FromSeconds(section.GetValue("Detection:SuppressionSeconds", 300)),
            Correlation = new CorrelationOptions
            {
                AllowedLateness = TimeSpan.FromSeconds(section.GetValue("Detection:AllowedLatenessSeconds", 60)),
                MaxEventsPerGroup = section.GetValue("Detection:MaxEventsPerGroup", new CorrelationOptions().MaxEventsPerGroup),
            },
        };
        if (detection.Correlation.AllowedLateness < TimeSpan.Zero || detection.Correlation.MaxEventsPerGroup < 1)
        {
            throw new InvalidOperationException("Hydrant:Detection:AllowedLatenessSeconds must be 0 or more and Hydrant:Detection:MaxEventsPerGroup 1 or more");
        }
        var webhooks = section.GetSection("Alerts:Webhooks").GetChildren().Select(w =>
            Uri.TryCreate(w["Url"], UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                ? new WebhookOptions(url, string.Equals(w["Format"], "slack", StringComparison.OrdinalIgnoreCase))
                : throw new InvalidOperationException($"Hydrant:Alerts:Webhooks: '{w["Url"]}' is not an http(s) URL")).ToList();
        return new HydrantSettings(store, limits, keys, kind, section["Rules"] is { Length: > 0 } rules ? rules : null, detection, webhooks,
            AnalyticsSettings.From(section), section["Cache:Kind"] ?? "memory")
        {
            DetectionEnabled = section.GetValue("Detection:Enabled", true),
            AnalyticsLoading = section.GetValue("Analytics:Load", true),
            Enrichment = EnrichmentSettings.From(section),
        };
    }
}

/// <summary>The analytics engine, its limits, and when the daily report is built.</summary>
public sealed record AnalyticsSettings(string Kind, TimeSpan QueryTimeout, int MaxRows, TimeOnly DailyReportAt)
{
    /// <summary>About how many bytes of values one ad-hoc answer may hold.</summary>
    public long MaxAnswerBytes { get; init; } = AnalyticsQuery.DefaultMaxBytes;

    /// <summary>Ad-hoc queries running at once; more wait briefly, then are answered 429.</summary>
    public int MaxConcurrentQueries { get; init; } = 2;

    /// <summary>How often days are checked for a report that is missing or that events arrived for after it was built.</summary>
    public TimeSpan StaleReportCheck { get; init; } = TimeSpan.FromMinutes(10);

    public static AnalyticsSettings From(IConfigurationSection hydrant)
    {
        var timeout = hydrant.GetValue("Analytics:QueryTimeoutSeconds", AnalyticsQuery.DefaultTimeout.TotalSeconds);
        var maxRows = hydrant.GetValue("Analytics:MaxRows", AnalyticsQuery.DefaultMaxRows);
        if (timeout <= 0 || maxRows < 1)
        {
            throw new InvalidOperationException("Hydrant:Analytics:QueryTimeoutSeconds and Hydrant:Analytics:MaxRows must be positive");
        }
        var at = hydrant["Reports:DailyAt"] ?? "00:15";
        if (!TimeOnly.TryParseExact(at, ["HH:mm", "HH:mm:ss"], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var dailyAt))
        {
            throw new InvalidOperationException($"Hydrant:Reports:DailyAt '{at}' is not a UTC time of day as HH:mm");
        }
        var staleCheck = hydrant.GetValue("Reports:StaleCheckSeconds", 600.0);
        var maxBytes = hydrant.GetValue("Analytics:MaxAnswerBytes", AnalyticsQuery.DefaultMaxBytes);
        var concurrent = hydrant.GetValue("Analytics:MaxConcurrentQueries", 2);
        if (maxBytes < 1024 || concurrent < 1 || staleCheck <= 0)
        {
            throw new InvalidOperationException("Hydrant:Analytics:MaxAnswerBytes must be 1024 or more, Hydrant:Analytics:MaxConcurrentQueries 1 or more and Hydrant:Reports:StaleCheckSeconds positive");
        }
        return new AnalyticsSettings(hydrant["Analytics:Kind"] ?? "duckdb", TimeSpan.FromSeconds(timeout), maxRows, dailyAt)
        {
            MaxAnswerBytes = maxBytes,
            MaxConcurrentQueries = concurrent,
            StaleReportCheck = TimeSpan.FromSeconds(staleCheck),
        };
    }
}
