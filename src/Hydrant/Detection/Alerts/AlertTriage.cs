using System.Text.Json.Serialization;

namespace Hydrant.Detection.Alerts;

/// <summary>Where an alert stands with the people who answer it.</summary>
public static class AlertStatus
{
    public const string Open = "open";
    public const string Acknowledged = "acknowledged";
    public const string Closed = "closed";

    public static readonly IReadOnlyList<string> All = [Open, Acknowledged, Closed];

    /// <summary>What a closed alert turned out to be.</summary>
    public static readonly IReadOnlyList<string> Resolutions = ["true_positive", "false_positive", "benign", "duplicate"];

    public const int MaxNoteChars = 1_000;
    public const int MaxAssigneeChars = 128;

    /// <summary>Changes an alert keeps; past it a change is refused (the alert's item must stay well under DynamoDB's 400 KB).</summary>
    public const int MaxHistory = 200;
}

/// <summary>
/// One change of an alert's triage (CONTRACT: <c>{"at","by","changes":{...},"note"}</c>): when, by
/// whom (an API key's name, or "open" on a node without keys), what it set (<c>status</c>,
/// <c>resolution</c>, <c>assignee</c>; an empty assignee unassigns) and its note.
/// </summary>
public sealed record AlertChange(string At, string By)
{
    public IReadOnlyDictionary<string, string> Changes { get; init; } = new Dictionary<string, string>();

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Note { get; init; }

    [JsonIgnore]
    public string? Status => Changes.GetValueOrDefault("status");

    [JsonIgnore]
    public string? Resolution => Changes.GetValueOrDefault("resolution");

    [JsonIgnore]
    public string? Assignee => Changes.GetValueOrDefault("assignee");

    /// <summary>A change of these values; null ones are left as they are.</summary>
    public static AlertChange Of(string at, string by, string? status = null, string? resolution = null, string? assignee = null, string? note = null) => new(at, by)
    {
        Changes = new[] { ("status", status), ("resolution", resolution), ("assignee", assignee) }
            .Where(c => c.Item2 is not null).ToDictionary(c => c.Item1, c => c.Item2!, StringComparer.Ordinal),
        Note = note,
    };
}

/// <summary>
/// An alert's triage, kept apart from what the detector writes (count, events), so neither
/// overwrites the other: its status, resolution and assignee, a version that grows with every
/// change, and the changes themselves.
/// </summary>
public sealed record AlertTriageState(string Status, string? Resolution, string? Assignee, long Version, IReadOnlyList<AlertChange> History)
{
    public static AlertTriageState New { get; } = new(AlertStatus.Open, null, null, 0, []);

    /// <summary>
    /// Why the change cannot be applied to this state, or null: a resolution is given only to an
    /// alert that is or becomes closed, and an alert keeps at most <see cref="AlertStatus.MaxHistory"/>
    /// changes. Checked on the state the change is applied to, inside the store's change, so a
    /// change made in between by someone else is what it is checked against.
    /// </summary>
    public string? Refusal(AlertChange change) =>
        change.Resolution is not null && (change.Status ?? Status) != AlertStatus.Closed ? "a resolution is given only when closing"
        : History.Count >= AlertStatus.MaxHistory ? $"the alert has {AlertStatus.MaxHistory} changes, the most it keeps"
        : null;

    /// <summary>This state with the change applied: a status other than closed clears the resolution.</summary>
    public AlertTriageState Apply(AlertChange change)
    {
        var status = change.Status ?? Status;
        return new AlertTriageState(
            status,
            status == AlertStatus.Closed ? change.Resolution ?? Resolution : null,
            change.Assignee is null ? Assignee : change.Assignee.Length == 0 ? null : change.Assignee,
            Version + 1,
            [.. History, change]);
    }
}

/// <summary>
/// The state after a change; or the current one, unchanged, when the alert changed since the
/// version the client sent (<see cref="Conflict"/>) or the change does not apply to it (<see cref="Refusal"/>).
/// </summary>
public sealed record TriageResult(AlertTriageState State, bool Conflict, string? Refusal = null);

/// <summary>
/// Alert triage, shared by every node that lists the same alerts: the node's own store when
/// alerts are the node's (embedded), the table when they are shared (DynamoDB).
/// </summary>
public interface IAlertTriage
{
    /// <summary>The triage of each alert that has any; alerts never triaged are absent (they are open).</summary>
    ValueTask<IReadOnlyDictionary<string, AlertTriageState>> GetAsync(IReadOnlyCollection<string> alertIds, CancellationToken cancellationToken);

    /// <summary>
    /// Applies the change to the alert's current triage, unless <paramref name="expectedVersion"/> is
    /// given and the alert has changed since (then nothing changes and the result is a conflict), or
    /// the current triage refuses it (<see cref="AlertTriageState.Refusal"/>: nothing changes).
    /// </summary>
    ValueTask<TriageResult> ChangeAsync(string alertId, long? expectedVersion, AlertChange change, CancellationToken cancellationToken);

    /// <summary>A number that grows whenever an alert is closed, on any node: when it moved, detectors re-read their open alerts' triage.</summary>
    ValueTask<long> ClosedEpochAsync(CancellationToken cancellationToken);
}
