using System.Text.Json.Serialization;
using Hydrant.Events;

namespace Hydrant.Detection.Alerts;

/// <summary>The event behind an alert, as the alert shows it.</summary>
public sealed record AlertEvent(string Id, string Timestamp, string EventType, string SourceIP)
{
    /// <summary>The file it was read from (<c>hydrant hunt</c> only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? File { get; init; }

    /// <summary>Where in <see cref="File"/>: the EVTX record id, or the line number.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Record { get; init; }
}

/// <summary>
/// An alert (CONTRACT "Shapes"): one rule and group key, how many events fired it between
/// firstSeen and lastSeen (event time), and up to <see cref="MaxEvents"/> of them.
/// </summary>
public sealed record Alert
{
    public const int MaxEvents = 100;

    public required string Id { get; init; }
    public required string RuleId { get; init; }
    public required string Title { get; init; }
    public required string Level { get; init; }
    public string? GroupKey { get; init; }
    public required long Count { get; init; }
    public required string FirstSeen { get; init; }
    public required string LastSeen { get; init; }
    public required IReadOnlyList<AlertEvent> Events { get; init; }

    /// <summary>open, acknowledged or closed (<see cref="AlertStatus"/>); the detector never sets it, triage does.</summary>
    public string Status { get; init; } = AlertStatus.Open;

    public string? Resolution { get; init; }
    public string? Assignee { get; init; }

    /// <summary>The triage version: grows with every change by a person, not with the detector's updates.</summary>
    public long Version { get; init; }

    public IReadOnlyList<AlertChange> History { get; init; } = [];

    /// <summary>This alert as its triage says it stands.</summary>
    public Alert With(AlertTriageState? triage) => triage is null ? this : this with
    {
        Status = triage.Status,
        Resolution = triage.Resolution,
        Assignee = triage.Assignee,
        Version = triage.Version,
        History = triage.History,
    };

    /// <summary>A new alert (fresh id) for a rule or correlation, keeping the first <see cref="MaxEvents"/> events.</summary>
    public static Alert Raise(string ruleId, string title, string level, string? groupKey, IReadOnlyList<AlertEvent> events, long count, long firstMs, long lastMs) => new()
    {
        Id = Ulid.NewUlid().ToString(),
        RuleId = ruleId,
        Title = title,
        Level = level,
        GroupKey = groupKey,
        Count = count,
        FirstSeen = Timestamps.ToText(firstMs),
        LastSeen = Timestamps.ToText(lastMs),
        Events = events.Count <= MaxEvents ? events : [.. events.Take(MaxEvents)],
    };
}

/// <summary>A filter over stored alerts, newest first.</summary>
public sealed record AlertQuery
{
    public long? FromMs { get; init; }
    public long? ToMs { get; init; }

    /// <summary>A rule's id or its exact title.</summary>
    public string? Rule { get; init; }
    public string? Level { get; init; }

    /// <summary>A source (normalized, as events store it) that one of the alert's events came from.</summary>
    public string? SourceIP { get; init; }

    public int Limit { get; init; } = 100;

    /// <summary>The id of the last alert of the previous page; this page starts below it.</summary>
    public string? AfterId { get; init; }

    /// <summary>
    /// Most stored alerts one page reads: a filter that matches few of them ends its page there,
    /// with fewer alerts than the limit (even none) and a cursor that goes on, so no page reads
    /// the whole store.
    /// </summary>
    public const int MaxExaminedPerPage = 10_000;

    /// <summary>This page's bound of stored alerts read (<see cref="MaxExaminedPerPage"/> unless a caller needs less).</summary>
    public int MaxExamined { get; init; } = MaxExaminedPerPage;
}

/// <summary>A page of alerts; <see cref="NextId"/> is null on the last page, and a page short of its limit may still have one (<see cref="AlertQuery.MaxExaminedPerPage"/>).</summary>
public sealed record AlertPage(IReadOnlyList<Alert> Alerts, string? NextId);
