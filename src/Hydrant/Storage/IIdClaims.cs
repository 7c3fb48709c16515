namespace Hydrant.Storage;

/// <summary>
/// Which node stores an event id, shared by every node (DynamoDB conditional writes), so an id
/// re-sent through any node is stored, detected and loaded once. A node appends to its spool
/// first, then claims the ids it appended; what another node already holds is a duplicate and
/// leaves the spool before any consumer sees it.
/// </summary>
public interface IIdClaims
{
    /// <summary>
    /// How long an append waits for its claims before it answers: claims that take longer are
    /// resolved in the background (the events are durable; duplicates among them leave later,
    /// and the answer does not count them).
    /// </summary>
    TimeSpan RequestWait { get; }

    /// <summary>
    /// Claims each id (with its event time, for its month) for this node: true when this node
    /// holds it (claimed now, or by this node before: asking again gives the same answer), false
    /// when another node does. Throws when the claims cannot be made now (the backend is down).
    /// </summary>
    ValueTask<IReadOnlyList<bool>> ClaimAsync(IReadOnlyList<IdClaim> ids, CancellationToken cancellationToken);
}

/// <summary>An id to claim, with what finds its event again from the id alone: its time, type and source.</summary>
public readonly record struct IdClaim(string Id, long TimestampMs, string EventType, string SourceIP);
