using System.Text.Json;
using System.Text.Json.Serialization;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;

namespace Hydrant.Server.Api;

// The shapes of the API's answers (CONTRACT "Shapes"), as the OpenAPI document describes them.
// Most are what the endpoints serialize; the few answers written straight to the response with a
// Utf8JsonWriter (ingest, event pages, analytics answers: the hot paths) are described by a record
// of the same shape, and ApiTests checks real answers of every endpoint against the document.

/// <summary>POST /v1/events: how many events were accepted (duplicates included) and which were rejected, by their index in the body.</summary>
/// <summary>The answer to an ingest; <c>Notices</c> (only when there are some) name what was read but deserves a look, or lost between records (EVTX).</summary>
public sealed record IngestAnswer(long Accepted, long Duplicates, IReadOnlyList<IngestRejection> Rejected, IReadOnlyList<string>? Notices = null);

public sealed record IngestRejection(int Index, string Error);

/// <summary>An event as stored: the canonical fields and every other field it arrived with.</summary>
public sealed record StoredEvent(string Id, string Timestamp, string EventType, string SourceIP)
{
    /// <summary>Read exactly as stored: names match case for case, so no field can stand in for a canonical one.</summary>
    private static readonly JsonSerializerOptions Exact = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Fields { get; init; }

    public static StoredEvent Read(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<StoredEvent>(json, Exact) ?? throw new JsonException("a stored event is null");
}

/// <summary>GET /v1/events: a page of events, newest first, the cursor of the next (null on the last), and the plan when asked or when it matters.</summary>
public sealed record EventPageAnswer(IReadOnlyList<StoredEvent> Events, string? Next)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EventPlanAnswer? Plan { get; init; }
}

/// <summary>
/// How a page was read: the index (source, hot or shards), partitions read of those planned,
/// items read; with field conditions, the events examined and whether the page ended at the bound;
/// and from when events are kept.
/// </summary>
public sealed record EventPlanAnswer(string Index, int Partitions, int PartitionsPlanned, long ItemsRead, string KeptFrom, bool ReachesPastRetention)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? EventsExamined { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? ExaminedBound { get; init; }
}

/// <summary>POST /v1/analytics/query: the columns, the rows (each an array of values) and whether a limit cut the answer.</summary>
public sealed record AnalyticsAnswer(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<JsonElement>> Rows, bool Truncated)
{
    /// <summary>rows or bytes: which limit cut the answer, when one did.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TruncatedBy { get; init; }
}

/// <summary>PATCH /v1/alerts/{id}: any of these; version (or If-Match) is the version the client saw.</summary>
public sealed record TriageChange(string? Status, string? Resolution, string? Assignee, string? Note, long? Version);

/// <summary>A 409 of PATCH /v1/alerts/{id}: the problem and the alert as it stands now.</summary>
public sealed record TriageConflict(string Error, string Detail, int Status, Alert Alert);

/// <summary>GET /v1/alerts: a page of alerts, newest first, and the cursor of the next (null on the last).</summary>
public sealed record AlertPageAnswer(IReadOnlyList<Alert> Alerts, string? Next);

/// <summary>One of an explained alert's events: its stored JSON (null once it is no longer kept) and what made it match.</summary>
public sealed record ExplainedEvent(string Id, StoredEvent? Event, IReadOnlyList<MatchExplanation> Matched);

/// <summary>GET /v1/alerts/{id}: the alert, its rule (null when no longer loaded), its events explained, how many it counted but does not keep, and a query for those.</summary>
public sealed record AlertExplanation(Alert Alert, RuleDescription? Rule, IReadOnlyList<ExplainedEvent> Events, long EventsNotShown, string? More);

/// <summary>GET /v1/rules: the loaded rules and those refused, with why.</summary>
public sealed record RuleListAnswer(IReadOnlyList<RuleDescription> Rules, IReadOnlyList<RuleRefusalAnswer> Refused);

public sealed record RuleRefusalAnswer(string Source, string Reason);

/// <summary>The MITRE ATT&amp;CK techniques (T1110.001) and tactics (credential-access) the rule's tags name.</summary>
public sealed record AttackDescription(IReadOnlyList<string> Techniques, IReadOnlyList<string> Tactics);

public sealed record LogsourceDescription(string? Product, string? Service, string? Category);

public sealed record CorrelationDescription(string Type, IReadOnlyList<string> Rules, IReadOnlyList<string> GroupBy, double TimespanSeconds, string? Field, IReadOnlyDictionary<string, double> Condition);

/// <summary>A loaded rule as the API lists it; <c>raisesAlerts</c> is false for a rule that only feeds correlations.</summary>
public sealed record RuleDescription(
    string Id, string Title, string Kind, string? Level, string? Status, string Source, bool RaisesAlerts,
    LogsourceDescription? Logsource, IReadOnlyList<string>? Tags, CorrelationDescription? Correlation)
{
    /// <summary>For a filter: the rules it tunes.</summary>
    public IReadOnlyList<string>? Filters { get; init; }

    public string? Description { get; init; }
    public string? Author { get; init; }
    public string? Date { get; init; }
    public IReadOnlyList<string> References { get; init; } = [];
    [JsonPropertyName("falsepositives")]
    public IReadOnlyList<string> FalsePositives { get; init; } = [];
    public AttackDescription Attack { get; init; } = new([], []);

    /// <summary>The rule's document as written; only when one rule is asked for.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Yaml { get; init; }
}

/// <summary>POST /v1/rules: the rule's id; replaced when it took the place of an API rule with that id.</summary>
public sealed record RuleAdded(string Id)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Replaced { get; init; }
}

/// <summary>A 400 of POST /v1/rules: what is wrong and where (line and column in the YAML, when known).</summary>
public sealed record RuleProblem(string Error, string Detail, int Line, int Column, int Status);

/// <summary>GET /v1/reports/daily: the stored reports, newest day first.</summary>
public sealed record ReportListAnswer(IReadOnlyList<Hydrant.Reports.StoredReport> Reports);

/// <summary>GET /v1/deadletters: a page of dead letters, newest first, the counts per consumer, and the cursor of the next page.</summary>
public sealed record DeadLetterPageAnswer(IReadOnlyList<DeadLetterAnswer> DeadLetters, IReadOnlyDictionary<string, long> Counts, string? Next);

/// <summary>A spool entry a consumer set aside: the event's bytes as text (unreadable bytes as U+FFFD) and exactly, as base64.</summary>
public sealed record DeadLetterAnswer(string Consumer, long Sequence, string At, string Reason, string Event, string EventBase64);

/// <summary>GET /healthz.</summary>
public sealed record Liveness(string Status);

/// <summary>GET /readyz: healthy, degraded or unhealthy, and each backend's check.</summary>
public sealed record Readiness(string Status, IReadOnlyDictionary<string, BackendHealth> Backends);

public sealed record BackendHealth(string Status, string? Description, IReadOnlyDictionary<string, object> Data);

/// <summary>GET /v1/stats/history: samples oldest first, and alerts raised per UTC hour over the last 24.</summary>
public sealed record PipelineHistoryAnswer(double IntervalSeconds, IReadOnlyList<PipelineSampleAnswer> Samples, IReadOnlyList<HourCount> AlertsPerHour);

/// <summary>One sample, with the rates (per second) since the sample before it.</summary>
public sealed record PipelineSampleAnswer(string At, IngestRates Ingest, long SpoolDepth, IReadOnlyList<ConsumerRate> Consumers, AlertRates Alerts);

public sealed record IngestRates(long Accepted, double AcceptedPerSecond, double RejectedPerSecond, double DuplicatesPerSecond, double ThrottledPerSecond);

public sealed record ConsumerRate(string Name, long LagEvents, double EventsPerSecond);

public sealed record AlertRates(double RaisedPerSecond, double UpdatedPerSecond);

public sealed record HourCount(string Hour, long Raised);

/// <summary>GET /v1/stats: the node's counters and levels now.</summary>
public sealed record StatsAnswer(
    IngestCounters Ingest, SpoolLevels Spool, AnalyticsProgress Analytics, StoreKeyRates? StoreKeys, AlertCounters? Alerts,
    RuleCacheCounters RuleCache, DeadLetterCounts DeadLetters, IReadOnlyList<ConsumerLagAnswer> Consumers, ShardWrites Shards, StorageWriteCounters? Storage,
    EnrichmentCounters Enrichment);

/// <summary>Enrichment at ingest: the MaxMind databases loaded (null when none is configured) and the intel lists in force with their sizes and hits.</summary>
public sealed record EnrichmentCounters(GeoIpCounters? City, GeoIpCounters? Asn, IReadOnlyList<IntelListCounters> Lists);

/// <summary>A MaxMind database: its file, the type its metadata names, and the lookups it failed on since start.</summary>
public sealed record GeoIpCounters(string Path, string Type, long FailedLookups);

/// <summary>An intel list: where it comes from (file or api), what it holds, its alerts' level, and addresses it held since start.</summary>
public sealed record IntelListCounters(string Name, string Source, int Networks, int Domains, string Level, long Hits);

/// <summary>
/// What the node's RocksDB (the spool, and the event store when it is the embedded one) was asked
/// to write since the node started: batches, memtable inserts (puts and deletes) and WAL bytes, in
/// all and per event stored (accepted, not a duplicate): the write amplification before compaction.
/// </summary>
public sealed record StorageWriteCounters(long Batches, long MemtableInserts, long WalBytes, double MemtableInsertsPerEvent, double WalBytesPerEvent);

public sealed record IngestCounters(long Requests, long Accepted, long Rejected, long Duplicates, long Throttled, long Commits, long Bytes);

/// <summary>The spool: entries not yet taken by every consumer, the next sequence, entries waiting for their ids to be claimed (DynamoDB), and the depth at which ingest answers 429.</summary>
public sealed record SpoolLevels(long Depth, long NextSequence, long WaitingForClaims, long HighWaterMark);

/// <summary>The analytics loader: whether the store answers (else why not), its rows, where the loader stands and how far behind.</summary>
public sealed record AnalyticsProgress(bool Available, string? Error, long? Rows, long Position, long LagEvents, double LagSeconds, int? SchemaVersion);

/// <summary>DynamoDB only: write units per partition key (the cap per key, the peak, the hottest keys now).</summary>
public sealed record StoreKeyRates(int UnitsPerKeyPerSecondCap, int PeakUnitsPerSecond, IReadOnlyList<HotKeyAnswer> Hottest);

public sealed record HotKeyAnswer(string Key, int UnitsLastSecond, int PeakUnitsPerSecond);

/// <summary>Alerts this node's detector raised and updated; shared: handed to the shared alert store (scale-out).</summary>
public sealed record AlertCounters(long Raised, long Updated, long? Shared);

public sealed record RuleCacheCounters(string Kind, double HitRatio, long Hits, long Misses);

public sealed record DeadLetterCounts(long Total, IReadOnlyDictionary<string, long> ByConsumer);

public sealed record ConsumerLagAnswer(string Name, long Position, long LagEvents, double LagSeconds);

/// <summary>Events written to each main shard (hash(sourceIP) % 100) since the node started, and the busiest over the mean.</summary>
public sealed record ShardWrites(int Count, IReadOnlyList<long> Writes, double MaxOverMean);

/// <summary>GET /v1/intel/lists: the threat-intel lists in force, the configured files' first, then the API's by name.</summary>
public sealed record IntelListsAnswer(IReadOnlyList<Hydrant.Enrichment.IntelListSummary> Lists);
