using Hydrant.Events;
using Hydrant.Keys;
using Hydrant.Spool;

namespace Hydrant.Analytics;

/// <summary>
/// The spool consumer that loads every accepted event into the analytics store, a batch at a
/// time, with its position committed in the same transaction as the rows. A commit costs far
/// more than a row (measured: 4,096-row commits load half as fast as 32,768-row ones), so the
/// loader takes big batches and waits up to a second to fill one: analytics trail ingest by about
/// a second, which reports and ad-hoc SQL do not notice. It reads at the lowest priority, as the
/// store's writes run (nice 19): during a burst that takes both cores it waits for the burst's end.
/// </summary>
public sealed class AnalyticsLoader(IAnalyticsStore store) : ISpoolConsumer
{
    private static readonly SpoolBatching LoaderBatching = new(32_768, TimeSpan.FromSeconds(1)) { Niceness = 19 };

    public const string ConsumerName = "analytics";

    public string Name => ConsumerName;

    public SpoolBatching Batching => LoaderBatching;

    public ValueTask<long> LoadPositionAsync(CancellationToken cancellationToken) => store.LoadCheckpointAsync(cancellationToken);

    public async ValueTask ConsumeAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken)
    {
        var rows = new List<AnalyticsRow>(entries.Count);
        foreach (var entry in entries)
        {
            if (!entry.Json.IsEmpty)
            {
                rows.Add(ReadRow(entry)); // empty: set aside, or dropped by retention before the loader reached it
            }
        }
        await store.AppendAsync(rows, entries[^1].Sequence + 1, cancellationToken);
    }

    public bool IsCausedByEntries(Exception failure) => failure is SpoolEntryException || store.IsRefusedData(failure);

    /// <summary>
    /// The row of an entry, from its envelope. Its JSON is checked against the one definition of a
    /// valid event (<see cref="EventShape.Check"/>: no allocation) before an engine is handed it as
    /// text: an entry an older build accepted that fails it is named, to be set aside, never loaded
    /// as a lossy copy.
    /// </summary>
    public static AnalyticsRow ReadRow(SpoolEntry entry)
    {
        try
        {
            if (EventShape.Check(entry.Json.Span) is { } invalid)
            {
                throw new FormatException(invalid);
            }
            return RowOf(entry.ReadEnvelope(), entry.Json);
        }
        catch (Exception e)
        {
            // Reading one event touches nothing but its bytes: whatever fails, fails for this event.
            throw new SpoolEntryException(entry.Sequence, "the event cannot be loaded: " + e.Message, e);
        }
    }

    /// <summary>The columns of a canonical event (docs/formats.md): the fields every event has, and its logsource.</summary>
    public static AnalyticsRow RowOf(EventEnvelope envelope, ReadOnlyMemory<byte> json) =>
        new(envelope.Id, envelope.TimestampMs, envelope.EventType, envelope.SourceIP, SourceShard.Main(SourceShard.Hash(envelope.SourceIP)),
            envelope.Logsource?.Product, envelope.Logsource?.Service, envelope.Logsource?.Category, json);
}
