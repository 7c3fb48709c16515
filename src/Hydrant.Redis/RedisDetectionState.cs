using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Correlation;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using StackExchange.Redis;

namespace Hydrant.Redis;

/// <summary>
/// Shared detection state in Redis. Per correlation and group, a sorted set of its events scored
/// by event time (at most <see cref="CorrelationOptions.MaxEventsPerGroup"/>, the oldest dropped
/// first), and for value_count and temporal a second one of its distinct values or rules, each at
/// its latest time. Per alert (rule and group), an owner key naming the node that raised it, held
/// (with PX, wall-clock) for the suppression window and extended while that node keeps raising it.
/// One script per hit adds it, trims what no window can reach any more, measures the window ending
/// at the hit (events, distinct values or rules, the sum, or how far the rules appear in order),
/// and takes or checks the owner key when the condition holds; a batch's scripts go out pipelined.
/// </summary>
internal sealed class RedisDetectionState(IConnectionMultiplexer redis, string node, TimeSpan suppression, CorrelationOptions correlationOptions, string prefix = RedisKeys.DefaultPrefix)
    : ISharedDetectionState
{
    // The scripts, each in Scripts/*.lua with its keys and arguments named at its top.
    private static readonly string ClaimScript = RedisScripts.Load("claim.lua");
    private static readonly string RouteScript = RedisScripts.Load("route.lua");
    private static readonly string ObserveScript = RedisScripts.Load("observe.lua");

    private const char Separator = '\u001f';
    private const string NoGroup = "\u0000";
    private const int ForwardedPerRead = 1_000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string _inboxPrefix = prefix + "inbox:";
    private readonly RedisKey _inbox = prefix + "inbox:" + node;

    public async ValueTask ObserveAsync(IReadOnlyList<CorrelationHit> hits, long streamClock, long attempt, List<CorrelationFiring> firings, CancellationToken cancellationToken)
    {
        if (hits.Count == 0)
        {
            return;
        }
        var database = redis.GetDatabase();
        var calls = new Task<RedisResult>[hits.Count];
        var groups = new string?[hits.Count];
        // Tells this call's reports from those of an earlier attempt at the same batch.
        var attemptToken = Guid.NewGuid().ToString("N");
        for (var i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            var target = hit.Target.Node;
            var correlation = target.Correlation;
            groups[i] = CorrelationEngine.GroupKey(correlation, hit.GroupValues);
            var group = groups[i] ?? string.Empty;
            var span = (long)correlation.Timespan.TotalMilliseconds;
            var (kind, distinct) = correlation.Type switch
            {
                CorrelationType.ValueCount => ("values", hit.Value ?? string.Empty),
                CorrelationType.Temporal => ("values", hit.Target.Member.ToString(CultureInfo.InvariantCulture)),
                CorrelationType.ValueSum => ("sum", string.Empty),
                CorrelationType.TemporalOrdered => ("ordered", string.Empty),
                _ => ("events", string.Empty),
            };
            // temporal without a condition, and temporal_ordered, need every rule; otherwise the
            // tightest lower bound decides (FiresEarly: every bound is a lower one).
            var (op, bound) = correlation.Condition.Count == 0
                ? ("gte", (double)target.Members.Count)
                : correlation.Condition.MaxBy(b => b.Value) is var tightest ? (tightest.Operator, tightest.Value) : default;
            var member = MemberOf(hit.Event, hit.Target.Member, hit.Number);
            calls[i] = database.ScriptEvaluateAsync(ObserveScript,
                [$"{prefix}corr:{correlation.Id}:{group}", $"{prefix}corr:{correlation.Id}:{group}:distinct", OwnerKey(correlation.Id, group),
                    $"{prefix}corr:{correlation.Id}:{group}:horizon", $"{prefix}corr:{correlation.Id}:{group}:reported"],
                [
                    member,
                    hit.TimestampMs,
                    span,
                    op,
                    bound.ToString("R", CultureInfo.InvariantCulture),
                    node,
                    (long)(suppression + correlation.Timespan).TotalMilliseconds,
                    span + (long)correlationOptions.AllowedLateness.TotalMilliseconds,
                    kind,
                    distinct,
                    target.Members.Count,
                    correlationOptions.MaxEventsPerGroup,
                    _inboxPrefix,
                    correlation.Id,
                    groups[i] ?? NoGroup,
                    Math.Max(streamClock, long.MinValue / 2),
                    attempt,
                    attemptToken,
                ]);
        }
        await Task.WhenAll(calls).WaitAsync(cancellationToken);
        for (var i = 0; i < hits.Count; i++)
        {
            var result = (RedisResult[])(await calls[i])!;
            var hit = hits[i];
            if ((long)result[0] == 1)
            {
                // This node's alert: it accounts for the window's events not reported before.
                var behind = ((RedisResult[])result[2]!).Select(m => EventOf((string)m!)).ToList();
                firings.Add(new CorrelationFiring(hit.Target.Node, groups[i], behind, (long)result[1],
                    behind.Min(e => Timestamps.ParseCanonical(e.Timestamp)), Math.Max(behind.Max(e => Timestamps.ParseCanonical(e.Timestamp)), Timestamps.ParseCanonical(EventOf((string)result[3]!).Timestamp))));
            }
        }
    }

    public async ValueTask<IReadOnlyList<bool>> ClaimAsync(IReadOnlyList<(string RuleId, string? GroupKey, IReadOnlyList<AlertEvent> Events)> alerts, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var window = (long)suppression.TotalMilliseconds;
        var calls = alerts.Select(a => OwnerKey(a.RuleId, a.GroupKey ?? string.Empty) is var owner
            ? database.ScriptEvaluateAsync(ClaimScript, [owner, owner.Append(":forwarded")],
                [node, window, _inboxPrefix, a.RuleId, a.GroupKey ?? NoGroup, .. a.Events.Select(e => (RedisValue)MemberOf(e, 0, 0))])
            : throw new UnreachableException()).ToList();
        var results = await Task.WhenAll(calls).WaitAsync(cancellationToken);
        return [.. results.Select(r => (long)r == 1)];
    }

    public async ValueTask<IReadOnlyList<HitRoute>> RouteAsync(IReadOnlyList<CorrelationHit> hits, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var calls = new Task<RedisResult>?[hits.Count];
        for (var i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            if (hit.Target.Node.KeptInSharedState)
            {
                continue;
            }
            var (kept, span) = hit.Target.Node.Keeping(hit.GroupValues);
            RedisKey keeper = $"{prefix}keeper:{kept}";
            // Held while the group may still have a window open (its last hit's window closes within
            // timespan + lateness of it), twice over for clocks that run apart.
            var hold = 2 * (long)(span + correlationOptions.AllowedLateness).TotalMilliseconds;
            var forwarded = new ForwardedWindowHit(hit.Target.Node.Correlation.Id, hit.Target.Member, hit.GroupValues, hit.Value, hit.Number, hit.Event);
            calls[i] = database.ScriptEvaluateAsync(RouteScript, [keeper, keeper.Append(":forwarded")],
                [node, hold, _inboxPrefix, JsonSerializer.Serialize(forwarded, Json), MemberOf(hit.Event, hit.Target.Member, hit.Number)]);
        }
        await Task.WhenAll(calls.OfType<Task<RedisResult>>()).WaitAsync(cancellationToken);
        var routes = new HitRoute[hits.Count];
        for (var i = 0; i < hits.Count; i++)
        {
            routes[i] = calls[i] is not { } call ? HitRoute.Shared : (long)await call == 1 ? HitRoute.Here : HitRoute.Forwarded;
        }
        return routes;
    }

    public async ValueTask<ForwardedHits> ReceiveForwardedAsync(string? after, CancellationToken cancellationToken)
    {
        var entries = await redis.GetDatabase().StreamRangeAsync(_inbox, after is null ? "-" : "(" + after, "+", ForwardedPerRead).WaitAsync(cancellationToken);
        if (entries.Length == 0)
        {
            return new ForwardedHits([], [], after);
        }
        var hits = new List<ForwardedHit>();
        var windowHits = new List<ForwardedWindowHit>();
        foreach (var entry in entries)
        {
            if (entry["w"] is { IsNull: false } windowHit)
            {
                windowHits.Add(JsonSerializer.Deserialize<ForwardedWindowHit>((string)windowHit!, Json)!);
            }
            else
            {
                hits.Add(new ForwardedHit((string)entry["c"]!, (string)entry["g"]! is var group && group != NoGroup ? group : null, EventOf((string)entry["m"]!)));
            }
        }
        return new ForwardedHits(hits, windowHits, (string)entries[^1].Id!);
    }

    public async ValueTask AcknowledgeForwardedAsync(string through, CancellationToken cancellationToken)
    {
        // XTRIM MINID keeps ids from the one given: the id just past the last one taken.
        var dash = through.IndexOf('-', StringComparison.Ordinal);
        var next = through[..(dash + 1)] + (ulong.Parse(through.AsSpan(dash + 1), CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
        await redis.GetDatabase().ExecuteAsync("XTRIM", _inbox.ToString(), "MINID", next).WaitAsync(cancellationToken);
    }

    /// <summary>An event as a window holds it: the same text for the same event, so adding it again changes nothing.</summary>
    private static string MemberOf(AlertEvent e, int rule, double number) =>
        string.Join(Separator, rule.ToString(CultureInfo.InvariantCulture), number.ToString("R", CultureInfo.InvariantCulture), e.Id, e.Timestamp, e.EventType, e.SourceIP);

    private static AlertEvent EventOf(string member)
    {
        var fields = member.Split(Separator);
        return new AlertEvent(fields[2], fields[3], fields[4], fields[5]);
    }

    private RedisKey OwnerKey(string ruleId, string group) => $"{prefix}owner:{ruleId}:{group}";
}
