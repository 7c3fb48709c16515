using System.Buffers.Binary;
using Hydrant.Events;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.Logging;
using RocksDbSharp;

namespace Hydrant.RocksDb;

/// <summary>
/// The spool's side of shared id claims (<see cref="IIdClaims"/>, with DynamoDB): a range is
/// written (synced) with a pending marker, its ids are claimed, the entries another node holds are
/// deleted with the marker in one batch, and only then is the range committed for consumers. While
/// the claims cannot be made (DynamoDB down) ranges wait, in order, for a resolver that keeps
/// trying; their requests are answered at once, their events being durable. After a crash the
/// pending markers found at start are resolved before consumers see their ranges. Claiming again
/// gives the same answers, so a marker lost nowhere and a claim made twice change nothing.
/// </summary>
internal sealed class SpoolClaims
{
    private static readonly byte[] Prefix = "claims/pending/"u8.ToArray();
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly RocksDbEngine _engine;
    private readonly IIdClaims _claims;
    private readonly CommitWatermark _watermark;
    private readonly ILogger _logger;
    private readonly TimeSpan _requestWait;
    private readonly WriteOptions _unsynced = new();
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _waiting = new();
    private Task _resolver = Task.CompletedTask;

    public SpoolClaims(RocksDbEngine engine, IIdClaims claims, CommitWatermark watermark, ILogger logger, TimeSpan requestWait)
    {
        _requestWait = requestWait;
        _engine = engine;
        _claims = claims;
        _watermark = watermark;
        _logger = logger;
    }

    /// <summary>One range written and not yet committed: its ids in sequence order.</summary>
    public sealed record Pending(CommitWatermark.Range Range, IReadOnlyList<IdClaim> Ids);

    /// <summary>Ranges waiting for the resolver.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>The marker to write in the range's own batch: the range's start and end.</summary>
    public static void Mark(WriteBatch batch, CommitWatermark.Range range, ColumnFamilyHandle meta)
    {
        var value = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(value, range.End);
        batch.Put(Key(range.Start), value, meta);
    }

    /// <summary>
    /// Pending ranges left by a crash, as [start, end) in order, for the spool to rebuild its
    /// watermark around; their ids are read back from the entries.
    /// </summary>
    public static List<(long Start, long End)> Left(RocksDbEngine engine)
    {
        var left = new List<(long, long)>();
        using var iterator = engine.Db.NewIterator(engine.Meta);
        for (iterator.Seek(Prefix); iterator.Valid() && iterator.GetKeySpan().StartsWith(Prefix); iterator.Next())
        {
            left.Add((BinaryPrimitives.ReadInt64BigEndian(iterator.GetKeySpan()[Prefix.Length..]), BinaryPrimitives.ReadInt64BigEndian(iterator.GetValueSpan())));
        }
        return left;
    }

    /// <summary>The ids of a range's entries, read back from the spool (after a restart).</summary>
    public IReadOnlyList<IdClaim> IdsOf(CommitWatermark.Range range)
    {
        var ids = new List<IdClaim>();
        for (var sequence = range.Start; sequence < range.End; sequence++)
        {
            var value = _engine.Db.Get(SpoolKey(sequence), _engine.Spool);
            EventEnvelope? envelope = null;
            try
            {
                if (value is not null)
                {
                    var (spooled, json) = SpoolValue.Split(value);
                    envelope = spooled ?? EventEnvelope.Read(json.Span);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // An entry no one can read claims nothing; its consumers set it aside.
            }
            ids.Add(envelope is { } known ? new IdClaim(known.Id, known.TimestampMs, known.EventType, known.SourceIP) : new IdClaim(string.Empty, 0, string.Empty, string.Empty));
        }
        return ids;
    }

    /// <summary>
    /// Claims a request's range and commits it; returns how many of its events another node holds.
    /// When the claims cannot be made within a short wait, or others already wait, the range waits
    /// for the resolver and the answer is 0 (the events are durable; any duplicates leave later).
    /// </summary>
    public async Task<int> ResolveAsync(Pending pending, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_waiting.Count > 0)
            {
                Enqueue(pending);
                return 0;
            }
        }
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(_requestWait);
        try
        {
            return await FinishAsync(pending, wait.Token);
        }
        catch (Exception e)
        {
            // Whatever stopped this attempt (the claims not answering, the client gone), the range
            // is written: the resolver sees it through.
            lock (_gate)
            {
                Enqueue(pending);
            }
            cancellationToken.ThrowIfCancellationRequested();
            _logger.LogWarning(e, "Id claims for spool entries {Start} to {End} wait: the shared claims do not answer; those entries reach consumers once they do", pending.Range.Start, pending.Range.End - 1);
            return 0;
        }
    }

    /// <summary>Queues ranges left by a crash, before any request.</summary>
    public void Recover(IEnumerable<Pending> left)
    {
        lock (_gate)
        {
            foreach (var pending in left)
            {
                Enqueue(pending);
            }
        }
    }

    private async Task<int> FinishAsync(Pending pending, CancellationToken cancellationToken)
    {
        var held = await _claims.ClaimAsync([.. pending.Ids.Where(i => i.Id.Length > 0)], cancellationToken);
        using var batch = new WriteBatch();
        var lost = 0;
        for (int i = 0, claimed = 0; i < pending.Ids.Count; i++)
        {
            if (pending.Ids[i].Id.Length > 0 && !held[claimed++])
            {
                batch.Delete(SpoolKey(pending.Range.Start + i), _engine.Spool);
                lost++;
            }
        }
        batch.Delete(Key(pending.Range.Start), _engine.Meta);
        // Not synced: lost in a crash, the marker is still there and the same claims give the same answer.
        _engine.Write(batch, _unsynced);
        _watermark.Complete(pending.Range);
        return lost;
    }

    private void Enqueue(Pending pending)
    {
        _waiting.Enqueue(pending);
        if (_resolver.IsCompleted)
        {
            _resolver = Task.Run(ResolveWaitingAsync);
        }
    }

    private async Task ResolveWaitingAsync()
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            Pending? next;
            lock (_gate)
            {
                if (!_waiting.TryPeek(out next))
                {
                    return;
                }
            }
            try
            {
                var lost = await FinishAsync(next, CancellationToken.None);
                lock (_gate)
                {
                    _waiting.Dequeue();
                }
                if (lost > 0)
                {
                    _logger.LogInformation("Id claims resolved for spool entries {Start} to {End}: {Lost} were stored by another node", next.Range.Start, next.Range.End - 1, lost);
                }
                backoff = TimeSpan.FromMilliseconds(100);
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Id claims still do not answer; retrying in {Backoff}", backoff);
                await Task.Delay(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private static byte[] Key(long start)
    {
        var key = new byte[Prefix.Length + 8];
        Prefix.CopyTo(key, 0);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(Prefix.Length), start);
        return key;
    }

    private static byte[] SpoolKey(long sequence)
    {
        var key = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(key, sequence);
        return key;
    }
}
