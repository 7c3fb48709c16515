using System.Text.Json;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.Extensions.Logging;

namespace Hydrant.Detection;

/// <summary>Settings of the detector. Built once from configuration.</summary>
public sealed record DetectionOptions
{
    /// <summary>Repeats of one rule and group key within this long (event time) update one alert instead of raising another.</summary>
    public TimeSpan SuppressionWindow { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The spool consumer that runs the rules on every event. A batch's alerts (new, and open ones
/// updated under suppression) are committed with the batch's spool position in one write, then
/// published live; so after kill -9 detection resumes at the first event whose alerts were not
/// stored, and no alert is lost or doubled.
/// </summary>
public sealed class Detector(RuleRegistry rules, IAlertStore store, AlertFeed feed, DetectionOptions options, ILogger<Detector> logger) : ISpoolConsumer
{
    private readonly Dictionary<(string RuleId, string? GroupKey), OpenAlert> _open = [];

    public string Name => "detector";

    public async ValueTask<long> LoadPositionAsync(CancellationToken cancellationToken)
    {
        await rules.LoadAsync(cancellationToken);
        foreach (var alert in await store.LoadOpenAsync(cancellationToken))
        {
            _open[(alert.RuleId, alert.GroupKey)] = OpenAlert.From(alert);
        }
        logger.LogInformation("Detector loaded {Rules} rules ({Refused} refused), {Open} open alerts", rules.Current.Rules.Count, rules.Current.Refusals.Count, _open.Count);
        return await store.LoadCheckpointAsync(cancellationToken);
    }

    public async ValueTask ConsumeAsync(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellationToken)
    {
        var ruleSet = rules.Current;
        var changed = new Dictionary<string, OpenAlert>(StringComparer.Ordinal);
        var newest = long.MinValue;
        foreach (var entry in entries)
        {
            if (entry.Json.IsEmpty)
            {
                continue; // dropped by retention before detection reached it
            }
            using var view = new EventView(entry.Json);
            var behind = AlertEventOf(view.Root, out var timestampMs);
            newest = Math.Max(newest, timestampMs);
            foreach (var rule in ruleSet.Matching(view))
            {
                var alert = Raise(rule, groupKey: null, behind, timestampMs);
                changed[alert.Alert.Id] = alert;
            }
        }

        var window = (long)options.SuppressionWindow.TotalMilliseconds;
        foreach (var key in _open.Where(p => p.Value.LastMs < newest - window).Select(p => p.Key).ToList())
        {
            _open.Remove(key);
        }
        await store.CommitAsync(
            [.. changed.Values.Select(a => a.Alert)],
            [.. _open.Values.Select(a => a.Alert)],
            entries[^1].Sequence + 1,
            cancellationToken);
        foreach (var alert in changed.Values)
        {
            feed.Publish(alert.Alert);
        }
    }

    private OpenAlert Raise(SigmaRule rule, string? groupKey, AlertEvent behind, long timestampMs)
    {
        var key = (rule.Id, groupKey);
        var window = (long)options.SuppressionWindow.TotalMilliseconds;
        if (_open.TryGetValue(key, out var open) && timestampMs >= open.FirstMs - window && timestampMs <= open.LastMs + window)
        {
            open = open.Add(behind, timestampMs);
        }
        else
        {
            open = new OpenAlert(new Alert
            {
                Id = Ulid.NewUlid().ToString(),
                RuleId = rule.Id,
                Title = rule.Title,
                Level = rule.Level,
                GroupKey = groupKey,
                Count = 1,
                FirstSeen = behind.Timestamp,
                LastSeen = behind.Timestamp,
                Events = [behind],
            }, timestampMs, timestampMs);
        }
        _open[key] = open;
        return open;
    }

    private static AlertEvent AlertEventOf(JsonElement root, out long timestampMs)
    {
        string Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;
        var timestamp = Text("timestamp");
        timestampMs = Timestamps.ParseCanonical(timestamp);
        return new AlertEvent(Text("id"), timestamp, Text("eventType"), Text("sourceIP"));
    }

    /// <summary>An alert still taking repeats, with its event-time bounds as numbers.</summary>
    private sealed record OpenAlert(Alert Alert, long FirstMs, long LastMs)
    {
        public static OpenAlert From(Alert alert) =>
            new(alert, Timestamps.ParseCanonical(alert.FirstSeen), Timestamps.ParseCanonical(alert.LastSeen));

        public OpenAlert Add(AlertEvent behind, long timestampMs)
        {
            var first = Math.Min(FirstMs, timestampMs);
            var last = Math.Max(LastMs, timestampMs);
            return new OpenAlert(Alert with
            {
                Count = Alert.Count + 1,
                FirstSeen = Timestamps.ToText(first),
                LastSeen = Timestamps.ToText(last),
                Events = Alert.Events.Count < Alert.MaxEvents ? [.. Alert.Events, behind] : Alert.Events,
            }, first, last);
        }
    }
}
