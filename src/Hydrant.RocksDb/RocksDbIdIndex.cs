using System.Collections.Concurrent;
using System.Text;
using Hydrant.Keys;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// The ids this node has stored (the <c>ids</c> family, keyed "yyyy-MM#id"), and the check that
/// makes a re-sent event a duplicate: an id is reserved by one request at a time while its write
/// is in flight, so two requests carrying it store it once. The spool adds each stored id to its
/// own write batch (<see cref="Add"/>), so an event and its id are written together.
/// </summary>
internal sealed class RocksDbIdIndex(RocksDbEngine engine)
{
    private readonly WriteOptions _unsynced = new();
    private readonly ConcurrentDictionary<string, Task> _inFlight = new(StringComparer.Ordinal);

    public enum Reservation
    {
        Store,
        Duplicate,
        HeldElsewhere,
    }

    /// <summary>
    /// Every id (a client's, or one derived from the record and its place in its stream) is
    /// reserved for this round; it is a duplicate when already stored or repeated within this round,
    /// and held elsewhere while another request's write of it is in flight (its outcome decides).
    /// </summary>
    public Reservation Reserve(ReadOnlySpan<byte> idKey, Task round, List<string> reserved, out Task? holder)
    {
        holder = null;
        var id = Encoding.UTF8.GetString(idKey);
        if (_inFlight.TryAdd(id, round))
        {
            reserved.Add(id);
            return engine.Db.HasKey(idKey, engine.Ids) ? Reservation.Duplicate : Reservation.Store;
        }
        if (!_inFlight.TryGetValue(id, out holder))
        {
            holder = Task.CompletedTask; // released in between: try again next round
            return Reservation.HeldElsewhere;
        }
        return holder == round ? Reservation.Duplicate : Reservation.HeldElsewhere;
    }

    /// <summary>Ends a round's reservations, once its batch is written (or failed).</summary>
    public void Release(List<string> reserved)
    {
        foreach (var id in reserved)
        {
            _inFlight.TryRemove(id, out _);
        }
    }

    /// <summary>Adds a stored id to the batch that stores its event; the value says where the event is.</summary>
    public void Add(WriteBatch batch, ReadOnlySpan<byte> idKey, ReadOnlySpan<byte> where) => batch.Put(idKey, where, engine.Ids);

    /// <summary>Ids are kept by month: each month before the cutoff's goes in one DeleteRange.</summary>
    public void ForgetBefore(DateTimeOffset cutoff)
    {
        var oldestKept = EventKeys.Month(new DateTimeOffset(cutoff.Year, cutoff.Month, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        while (true)
        {
            string month;
            using (var iterator = engine.Db.NewIterator(engine.Ids))
            {
                iterator.SeekToFirst();
                if (!iterator.Valid() || iterator.GetKeySpan().Length < 7)
                {
                    return;
                }
                month = Encoding.ASCII.GetString(iterator.GetKeySpan()[..7]);
            }
            if (string.CompareOrdinal(month, oldestKept) >= 0)
            {
                return;
            }
            var from = Encoding.ASCII.GetBytes(month + "#");
            var to = Encoding.ASCII.GetBytes(month + "$");
            using var batch = new WriteBatch();
            batch.DeleteRange(from, (ulong)from.Length, to, (ulong)to.Length, engine.Ids);
            engine.Write(batch, _unsynced);
            engine.Db.CompactRange(from, to, engine.Ids);
        }
    }
}
