using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hydrant.Reports;

/// <summary>How many events one source sent.</summary>
public sealed record SourceCount(string SourceIP, long Count);

/// <summary>The day's alerts (those first seen that day), per rule (by id) and per level, and each rule's title.</summary>
public sealed record AlertFigures(long Total, IReadOnlyDictionary<string, long> ByRule, IReadOnlyDictionary<string, long> ByLevel)
{
    /// <summary>The title of each rule of <see cref="ByRule"/>, as its alerts carry it (reports built before titles were kept have none).</summary>
    public IReadOnlyDictionary<string, string> RuleTitles { get; init; } = new Dictionary<string, string>();

    /// <summary>How a report names a rule: its title, with the id for when titles repeat.</summary>
    public string NameOf(string ruleId) => RuleTitles.TryGetValue(ruleId, out var title) && title.Length > 0 ? $"{title} ({ruleId})" : ruleId;
}

/// <summary>One stored report as a list of them shows it: its day, when it was built (canonical UTC text), its events and alerts.</summary>
public sealed record StoredReport(string Date, string BuiltAt, long TotalEvents, long Alerts)
{
    public static StoredReport Of(DateOnly day, DateTimeOffset builtAt, long totalEvents, long alerts) =>
        new(DailyReport.DateText(day), Hydrant.Events.Timestamps.ToText(builtAt.ToUnixTimeMilliseconds()), totalEvents, alerts);
}

/// <summary>How many of the day's events came from one country (by the enrichment of their sourceIP).</summary>
public sealed record CountryCount(string CountryIsoCode, string? CountryName, long Events);

/// <summary>How many of the day's events came from one autonomous system.</summary>
public sealed record NetworkCount(long Number, string? Organization, long Events);

/// <summary>How many of the day's events, from how many sources, an intel list held the sourceIP of.</summary>
public sealed record IntelMatch(string List, long Events, long Sources);

/// <summary>
/// What enrichment at ingest knew of the day's sources (docs/enrichment.md): the top countries and
/// autonomous systems, and every list that held one; empty when nothing was enriched (or for a
/// report built before enrichment existed).
/// </summary>
public sealed record EnrichmentFigures(IReadOnlyList<CountryCount> TopCountries, IReadOnlyList<NetworkCount> TopNetworks, IReadOnlyList<IntelMatch> IntelMatches)
{
    public const int TopCount = 20;

    public static EnrichmentFigures Empty { get; } = new([], [], []);

    [JsonIgnore]
    public bool IsEmpty => TopCountries.Count == 0 && TopNetworks.Count == 0 && IntelMatches.Count == 0;
}

/// <summary>Events per main shard and how far the busiest shard is above the mean (1 is perfectly even).</summary>
public sealed record PartitionHeat(IReadOnlyList<long> Shards, double MaxOverMean);

/// <summary>
/// The report of one UTC day (CONTRACT "Shapes"): totals, events per type and per hour, the top
/// 20 sources, sources new against the 7 days before, alerts, partition heat, and what enrichment
/// knew of the sources.
/// </summary>
public sealed record DailyReport(
    string Date,
    long TotalEvents,
    IReadOnlyDictionary<string, long> ByType,
    IReadOnlyList<long> ByHour,
    IReadOnlyList<SourceCount> TopSources,
    IReadOnlyList<string> NewSources,
    AlertFigures Alerts,
    PartitionHeat PartitionHeat)
{
    public const int TopSourceCount = 20;

    public EnrichmentFigures Enrichment { get; init; } = EnrichmentFigures.Empty;
    public const int NewSourceLookbackDays = 7;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.Strict,
    };

    [JsonIgnore]
    public DateOnly Day => DateOnly.ParseExact(Date, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static DailyReport FromJson(string json) =>
        JsonSerializer.Deserialize<DailyReport>(json, Json) ?? throw new JsonException("a stored report is null");

    public static string DateText(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Partition heat from events per shard: max over mean, 0 for a day without events.</summary>
    public static PartitionHeat HeatOf(long[] shards)
    {
        var total = shards.Sum();
        return new PartitionHeat(shards, total == 0 ? 0 : Math.Round(shards.Max() / ((double)total / shards.Length), 3));
    }
}
