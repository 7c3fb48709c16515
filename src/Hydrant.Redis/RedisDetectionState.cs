using System.Globalization;
using Hydrant.Detection;
using Hydrant.Detection.Correlation;
using StackExchange.Redis;

namespace Hydrant.Redis;

/// <summary>
/// Shared detection state in Redis. Per correlation and group, a sorted set scored by event time
/// (event_count: one member per event id; value_count: one per value, at its latest time). Per
/// alert (rule and group), an owner key naming the node that raised it, held (with PX, wall-clock)
/// for the suppression window and extended while that node keeps raising it. One script per hit
/// adds it, trims what no window can reach any more, counts the window ending at the hit, and
/// takes or checks the owner key when the condition holds; a batch's scripts go out pipelined.
/// </summary>
public sealed class RedisDetectionState(IConnectionMultiplexer redis, string node, TimeSpan suppression, TimeSpan allowedLateness, string prefix = RedisKeys.DefaultPrefix)
    : ISharedDetectionState
{
    private const string ClaimScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return 1
        end
        return 0
        """;

    private const string ObserveScript = """
        local ts = tonumber(ARGV[2])
        local span = tonumber(ARGV[3])
        if ARGV[9] == 'values' then
            redis.call('ZADD', KEYS[1], 'GT', ts, ARGV[1])
        else
            redis.call('ZADD', KEYS[1], ts, ARGV[1])
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (ts - tonumber(ARGV[8])))
        redis.call('PEXPIRE', KEYS[1], ARGV[8])
        local n = redis.call('ZCOUNT', KEYS[1], ts - span, ts)
        local bound = tonumber(ARGV[5])
        if not ((ARGV[4] == 'gt' and n > bound) or (ARGV[4] == 'gte' and n >= bound)) then
            return {n, 0}
        end
        if redis.call('SET', KEYS[2], ARGV[6], 'NX', 'PX', ARGV[7]) then
            return {n, 1}
        end
        if redis.call('GET', KEYS[2]) == ARGV[6] then
            redis.call('PEXPIRE', KEYS[2], ARGV[7])
            return {n, 2}
        end
        return {n, -1}
        """;

    public async ValueTask ObserveAsync(IReadOnlyList<CorrelationHit> hits, List<CorrelationFiring> firings, CancellationToken cancellationToken)
    {
        if (hits.Count == 0)
        {
            return;
        }
        var database = redis.GetDatabase();
        var calls = new Task<RedisResult>[hits.Count];
        var groups = new string?[hits.Count];
        for (var i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            var correlation = hit.Target.Node.Correlation;
            groups[i] = CorrelationEngine.GroupKey(correlation, hit.GroupValues);
            var group = groups[i] ?? string.Empty;
            var span = (long)correlation.Timespan.TotalMilliseconds;
            // The tightest lower bound decides (FiresEarly: every bound is a lower one).
            var bound = correlation.Condition.MaxBy(b => b.Value);
            var values = correlation.Type == Hydrant.Detection.Sigma.CorrelationType.ValueCount;
            calls[i] = database.ScriptEvaluateAsync(ObserveScript,
                [$"{prefix}corr:{correlation.Id}:{group}", OwnerKey(correlation.Id, group)],
                [
                    values ? hit.Value ?? string.Empty : hit.Event.Id,
                    hit.TimestampMs,
                    span,
                    bound.Operator,
                    bound.Value.ToString(CultureInfo.InvariantCulture),
                    node,
                    (long)(suppression + correlation.Timespan).TotalMilliseconds,
                    span + (long)allowedLateness.TotalMilliseconds,
                    values ? "values" : "events",
                ]);
        }
        await Task.WhenAll(calls).WaitAsync(cancellationToken);
        for (var i = 0; i < hits.Count; i++)
        {
            var result = (RedisResult[])(await calls[i])!;
            var count = (long)result[0];
            var hit = hits[i];
            var group = groups[i];
            switch ((long)result[1])
            {
                case 1: // this node raised it first: the alert accounts for the whole window
                    firings.Add(new CorrelationFiring(hit.Target.Node, group, [hit.Event], count, hit.TimestampMs, hit.TimestampMs));
                    break;
                case 2: // this node's alert: one more event
                    firings.Add(new CorrelationFiring(hit.Target.Node, group, [hit.Event], 1, hit.TimestampMs, hit.TimestampMs));
                    break;
                default: // not yet, or another node's alert
                    break;
            }
        }
    }

    public async ValueTask<IReadOnlyList<bool>> ClaimAsync(IReadOnlyList<(string RuleId, string? GroupKey)> alerts, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var window = (long)suppression.TotalMilliseconds;
        var calls = alerts.Select(a => database.ScriptEvaluateAsync(ClaimScript, [OwnerKey(a.RuleId, a.GroupKey ?? string.Empty)], [node, window])).ToList();
        var results = await Task.WhenAll(calls).WaitAsync(cancellationToken);
        return [.. results.Select(r => (long)r == 1)];
    }

    private RedisKey OwnerKey(string ruleId, string group) => $"{prefix}owner:{ruleId}:{group}";
}
