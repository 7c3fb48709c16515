using Hydrant.Detection.Alerts;
using Hydrant.Detection.Sigma;
using Hydrant.Events.Fields;

namespace Hydrant.Detection.Correlation;

/// <summary>Settings of correlation windows. Built once from configuration.</summary>
public sealed record CorrelationOptions
{
    /// <summary>
    /// How long (in the stream clock) a window waits for events that arrive late: a hit is kept
    /// for the timespan and this long past its horizon, and a window judged at its close is judged
    /// this long after its end and its last event's arrival.
    /// </summary>
    public TimeSpan AllowedLateness { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The wall clock the stream clock may not pass (none: event time alone, as in tests of event time).</summary>
    public TimeProvider? WallClock { get; init; } = TimeProvider.System;

    /// <summary>Events kept per correlation group; past it the oldest are dropped (and counted).</summary>
    public int MaxEventsPerGroup { get; init; } = 10_000;
}

/// <summary>
/// One event (or one firing of a chained correlation) for a correlation: which of its rules it
/// matched, the values of its group-by fields, and the value of its condition field, if any.
/// </summary>
public sealed record CorrelationHit(Subscription Target, string[] GroupValues, long TimestampMs, string? Value, double Number, AlertEvent Event)
{
    /// <summary>
    /// The hits an event that matched <paramref name="rule"/> gives the correlations the rule
    /// feeds. Pure (safe on any thread): it reads the event, not the windows. An event that lacks
    /// a group-by field, or the condition field (a number, for value_sum and value_avg), gives none,
    /// as a stats-by query would drop it.
    /// </summary>
    public static void Extract(CorrelationPlan plan, SigmaRule rule, EventView view, AlertEvent behind, long timestampMs, List<CorrelationHit> hits)
    {
        foreach (var subscription in plan.For(rule))
        {
            var correlation = subscription.Node.Correlation;
            var values = new string[correlation.GroupBy.Count];
            var complete = true;
            for (var i = 0; i < values.Length && complete; i++)
            {
                complete = TryText(view, correlation.FieldNameFor(correlation.GroupBy[i], rule), out values[i]);
            }
            if (!complete)
            {
                continue;
            }
            string? value = null;
            var number = 0.0;
            if (correlation.Field is { } field)
            {
                var name = correlation.FieldNameFor(field, rule);
                if (correlation.Type is CorrelationType.ValueSum or CorrelationType.ValueAvg)
                {
                    if (!view.TryGetField(name, out var element) || !element.TryNumber(out number))
                    {
                        continue;
                    }
                }
                else if (!TryText(view, name, out value))
                {
                    continue;
                }
            }
            hits.Add(new CorrelationHit(subscription, values, timestampMs, value, number, behind));
        }
    }

    private static bool TryText(EventView view, FieldName field, out string text)
    {
        if (view.TryGetField(field, out var element) && element.Text is { } value)
        {
            text = value;
            return true;
        }
        text = string.Empty;
        return false;
    }
}

/// <summary>
/// A correlation that fired for one group: the events it newly accounts for (the first
/// <see cref="Alert.MaxEvents"/> of them), how many there are, and their event-time span.
/// </summary>
public sealed record CorrelationFiring(CorrelationNode Node, string? GroupKey, IReadOnlyList<AlertEvent> Events, long Count, long FirstMs, long LastMs);
