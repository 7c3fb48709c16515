using System.Text.Json;
using Hydrant.Events;
using Hydrant.Keys;
using Hydrant.Spool;

namespace Hydrant.Analytics;

/// <summary>
/// The spool consumer that loads every accepted event into the analytics store, a batch at a
/// time, with its position committed in the same transaction as the rows. A commit costs far
/// more than a row (measured: 4,096-row commits load half as fast as 32,768-row ones), so the
/// loader takes big batches and waits up to a second to fill one: analytics trail ingest by about
/// a second, which reports and ad-hoc SQL do not notice.
/// </summary>
public sealed class AnalyticsLoader(IAnalyticsStore store) : ISpoolConsumer
{
    private static readonly SpoolBatching LoaderBatching = new(32_768, TimeSpan.FromSeconds(1));

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

    /// <summary>The row of an entry; an event whose canonical fields cannot be read is named, to be set aside.</summary>
    public static AnalyticsRow ReadRow(SpoolEntry entry)
    {
        try
        {
            return RowOf(entry.Json);
        }
        catch (Exception e)
        {
            // Reading one event touches nothing but its bytes: whatever fails, fails for this event.
            throw new SpoolEntryException(entry.Sequence, "the event's canonical fields cannot be read: " + e.Message, e);
        }
    }

    /// <summary>The columns of a canonical event (docs/formats.md): the fields every event has, and its logsource.</summary>
    public static AnalyticsRow RowOf(ReadOnlyMemory<byte> json)
    {
        var reader = new Utf8JsonReader(json.Span, EventShape.ReaderOptions);
        string id = string.Empty, timestamp = string.Empty, type = string.Empty, source = string.Empty;
        string? product = null, service = null, category = null;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "id" when reader.TokenType == JsonTokenType.String:
                    id = reader.GetString()!;
                    break;
                case "timestamp" when reader.TokenType == JsonTokenType.String:
                    timestamp = reader.GetString()!;
                    break;
                case "eventType" when reader.TokenType == JsonTokenType.String:
                    type = reader.GetString()!;
                    break;
                case "sourceIP" when reader.TokenType == JsonTokenType.String:
                    source = reader.GetString()!;
                    break;
                case "logsource" when reader.TokenType == JsonTokenType.StartObject:
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var key = reader.GetString();
                        reader.Read();
                        var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        switch (key)
                        {
                            case "product":
                                product = value;
                                break;
                            case "service":
                                service = value;
                                break;
                            case "category":
                                category = value;
                                break;
                        }
                        reader.Skip();
                    }
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new AnalyticsRow(id, Timestamps.ParseCanonical(timestamp), type, source, SourceShard.Main(SourceShard.Hash(source)), product, service, category, json);
    }
}
