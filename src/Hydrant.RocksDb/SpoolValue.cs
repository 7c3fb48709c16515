using Hydrant.Events;

namespace Hydrant.RocksDb;

/// <summary>
/// A spool entry's value: the event's envelope, then the main row's key (embedded) or the event's
/// JSON (store elsewhere). Values spooled before envelopes were are the key or the JSON alone.
/// </summary>
internal static class SpoolValue
{
    /// <summary>The envelope (null for a value spooled without one) and what follows it.</summary>
    public static (EventEnvelope? Envelope, ReadOnlyMemory<byte> Payload) Split(byte[] value) =>
        EventEnvelope.TryRead(value, out var envelope, out var consumed) ? (envelope, value.AsMemory(consumed)) : (null, value);
}
