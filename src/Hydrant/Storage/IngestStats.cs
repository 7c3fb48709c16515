using System.Diagnostics.Metrics;
using Hydrant.Keys;

namespace Hydrant.Storage;

/// <summary>
/// Ingest counters for /v1/stats, exported to /metrics through the "Hydrant" meter (the exporter
/// prefixes the meter name: hydrant_ingest_requests, hydrant_spool_depth, ...).
/// </summary>
public sealed class IngestStats : IDisposable
{
    public const string MeterName = "Hydrant";

    private readonly long[] _shardWrites = new long[SourceShard.MainShards];
    private readonly Meter _meter;
    private long _requests;
    private long _accepted;
    private long _rejected;
    private long _duplicates;
    private long _throttled;
    private long _commits;
    private long _bytes;

    public IngestStats(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableCounter("ingest_requests", () => Requests, description: "POST /v1/events requests");
        _meter.CreateObservableCounter("ingest_events_accepted", () => Accepted, description: "Events accepted and durable");
        _meter.CreateObservableCounter("ingest_events_rejected", () => Rejected, description: "Events rejected as invalid");
        _meter.CreateObservableCounter("ingest_events_duplicate", () => Duplicates, description: "Events whose id was already stored");
        _meter.CreateObservableCounter("ingest_throttled", () => Throttled, description: "Requests answered 429");
        _meter.CreateObservableCounter("ingest_commits", () => Commits, description: "Synced group commits");
        _meter.CreateObservableCounter("ingest_bytes", () => Bytes, unit: "By", description: "Canonical event bytes stored");
    }

    /// <summary>Called once by the spool backend so its depth is exported with the rest.</summary>
    public void ObserveSpoolDepth(Func<long> depth) =>
        _meter.CreateObservableGauge("spool_depth", depth, description: "Spool entries not yet consumed by every consumer");

    public long Requests => Interlocked.Read(ref _requests);
    public long Accepted => Interlocked.Read(ref _accepted);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Throttled => Interlocked.Read(ref _throttled);
    public long Commits => Interlocked.Read(ref _commits);
    public long Bytes => Interlocked.Read(ref _bytes);

    public long[] ShardWrites()
    {
        var copy = new long[_shardWrites.Length];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = Interlocked.Read(ref _shardWrites[i]);
        }
        return copy;
    }

    public void RecordRequest(int accepted, int rejected, int duplicates)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _accepted, accepted);
        Interlocked.Add(ref _rejected, rejected);
        Interlocked.Add(ref _duplicates, duplicates);
    }

    public void RecordThrottled() => Interlocked.Increment(ref _throttled);

    public void RecordCommit(long bytes)
    {
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _bytes, bytes);
    }

    public void RecordShardWrite(int shard) => Interlocked.Increment(ref _shardWrites[shard]);

    public void Dispose() => _meter.Dispose();
}
