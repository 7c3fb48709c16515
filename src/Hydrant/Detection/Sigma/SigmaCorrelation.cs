using System.Collections.Concurrent;
using System.Globalization;
using Hydrant.Events.Fields;

namespace Hydrant.Detection.Sigma;

/// <summary>The correlation types of sigma-correlation-rules-specification (v2.1).</summary>
public enum CorrelationType
{
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
}

/// <summary>One bound of a correlation condition: <c>gte: 10</c> is (Gte, 10).</summary>
public readonly record struct CorrelationBound(string Operator, double Value)
{
    public bool IsLower => Operator is "gt" or "gte";

    public bool Holds(double aggregate) => Operator switch
    {
        "gt" => aggregate > Value,
        "gte" => aggregate >= Value,
        "lt" => aggregate < Value,
        "lte" => aggregate <= Value,
        "eq" => aggregate == Value,
        _ => aggregate != Value, // neq
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Operator} {Value}");
}

/// <summary>
/// A Sigma correlation rule: how events of the rules it refers to (detection rules or other
/// correlations) must relate within a timespan, per group of field values, to fire.
/// </summary>
public sealed class SigmaCorrelation : SigmaDocument
{
    private readonly ConcurrentDictionary<string, FieldName> _fieldNames = new(StringComparer.Ordinal);

    internal SigmaCorrelation(
        string id,
        string? name,
        string title,
        string level,
        string? status,
        CorrelationType type,
        IReadOnlyList<string> rules,
        IReadOnlyList<string> groupBy,
        TimeSpan timespan,
        IReadOnlyList<CorrelationBound> condition,
        string? field,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> aliases,
        bool generate)
        : base(id, name, title)
    {
        Level = level;
        Status = status;
        Type = type;
        Rules = rules;
        GroupBy = groupBy;
        Timespan = timespan;
        Condition = condition;
        Field = field;
        Aliases = aliases;
        Generate = generate;
        FiresEarly = type is CorrelationType.Temporal or CorrelationType.TemporalOrdered or CorrelationType.EventCount or CorrelationType.ValueCount or CorrelationType.ValueSum
            && condition.All(b => b.IsLower);
    }

    public string Level { get; }
    public string? Status { get; }
    public CorrelationType Type { get; }

    /// <summary>Ids or names of the rules it correlates, in order (the order matters for temporal_ordered).</summary>
    public IReadOnlyList<string> Rules { get; }

    /// <summary>Field names (or alias names) whose values scope a group; empty means one group.</summary>
    public IReadOnlyList<string> GroupBy { get; }

    public TimeSpan Timespan { get; }

    /// <summary>Bounds the aggregate must satisfy, all of them (empty for temporal types: every rule must appear).</summary>
    public IReadOnlyList<CorrelationBound> Condition { get; }

    /// <summary>The field value_count, value_sum, value_avg and value_percentile aggregate.</summary>
    public string? Field { get; }

    /// <summary>Alias name to (rule name to field name in that rule's events).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Aliases { get; }

    /// <summary>When true the rules it refers to also raise their own alerts.</summary>
    public bool Generate { get; }

    /// <summary>
    /// True when the condition can only become true as events are added (lower bounds on a count
    /// or sum, or temporal): such a correlation fires as soon as it holds, on sliding windows.
    /// The others are judged when a window closes.
    /// </summary>
    public bool FiresEarly { get; }

    /// <summary>What the window state depends on; state saved under another definition is discarded.</summary>
    public string Definition => string.Join('|',
        Type,
        string.Join(',', Rules),
        string.Join(',', GroupBy),
        Timespan.Ticks.ToString(CultureInfo.InvariantCulture),
        string.Join(',', Condition),
        Field,
        string.Join(',', Aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Key + ":" + string.Join(';', a.Value.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + "=" + v.Value)))));

    /// <summary>The field to read from events of <paramref name="rule"/> for the group-by or value field <paramref name="field"/>.</summary>
    public string FieldFor(string field, SigmaDocument rule) =>
        Aliases.TryGetValue(field, out var byRule)
            && ((rule.Name is { } name && byRule.TryGetValue(name, out var aliased)) || byRule.TryGetValue(rule.Id, out aliased))
            ? aliased
            : field;

    /// <summary>
    /// <see cref="FieldFor"/> as the name an event's fields are looked up by: made once per field
    /// (the few group-by and value fields and their aliases), not for every event a rule matches.
    /// </summary>
    public FieldName FieldNameFor(string field, SigmaDocument rule) => _fieldNames.GetOrAdd(FieldFor(field, rule), FieldName.Of);
}
