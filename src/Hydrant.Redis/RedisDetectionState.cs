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
public sealed class RedisDetectionState(IConnectionMultiplexer redis, string node, TimeSpan suppression, CorrelationOptions correlationOptions, string prefix = RedisKeys.DefaultPrefix)
    : ISharedDetectionState
{
    // KEYS: the owner key, the events forwarded for it. ARGV: this node, the suppression window,
    // the inbox prefix, the rule, its group, then the events; a node that does not own the alert
    // forwards to the node that does the events not forwarded before (a replayed batch's are).
    private const string ClaimScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        local owner = redis.call('GET', KEYS[1])
        if owner == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return 1
        end
        if owner then
            for i = 6, #ARGV do
                if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
                    redis.call('XADD', ARGV[3] .. owner, 'MAXLEN', '~', '1000000', '*', 'c', ARGV[4], 'g', ARGV[5], 'm', ARGV[i])
                end
            end
            redis.call('PEXPIRE', KEYS[2], ARGV[2])
        end
        return 0
        """;

    // KEYS: the group's keeper, the hits forwarded to it. ARGV: this node, how long a keeper holds
    // a group it hears nothing of, the inbox prefix, the hit as forwarded, the event as a window
    // holds it (a replayed hit was forwarded the first time).
    private const string RouteScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        local keeper = redis.call('GET', KEYS[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if keeper == ARGV[1] then return 1 end
        if redis.call('SADD', KEYS[2], ARGV[5]) == 1 then
            redis.call('PEXPIRE', KEYS[2], ARGV[2])
            redis.call('XADD', ARGV[3] .. keeper, 'MAXLEN', '~', '1000000', '*', 'w', ARGV[4], 'm', ARGV[5])
        end
        return 0
        """;

    // KEYS: the group's events (scored by event time; each member "rule index, number, id, time,
    // type, source" joined by \x1f, the same for a replayed event), its distinct values or rules
    // (value_count, temporal), the alert's owner key, the events again scored by horizon, and who
    // reported each event (node and batch, or "forwarded"). The result: 0 (not satisfied, or
    // nothing new), -1 (another node's alert: the hit is forwarded to that node's inbox), or 1
    // (this node's alert) followed by the number of events newly behind it, up to 100 of them
    // (oldest first) and the newest.
    private const string ObserveScript = """
        local ts = tonumber(ARGV[2])
        local span = tonumber(ARGV[3])
        local keep = tonumber(ARGV[8])
        local kind = ARGV[9]
        local clock = tonumber(ARGV[16])
        local added = redis.call('ZADD', KEYS[1], ts, ARGV[1])
        -- Each event's horizon (its time, or the adding node's stream clock if later) decides how
        -- long it is kept, as in the engine: not its place in event time.
        if added == 1 then redis.call('ZADD', KEYS[4], math.max(ts, clock), ARGV[1]) end
        local function drop(members)
            for i = 1, #members, 500 do
                local part = {unpack(members, i, math.min(i + 499, #members))}
                redis.call('ZREM', KEYS[1], unpack(part))
                redis.call('ZREM', KEYS[4], unpack(part))
                redis.call('HDEL', KEYS[5], unpack(part))
            end
        end
        drop(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. (clock - keep)))
        local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[12])
        if extra > 0 then drop(redis.call('ZRANGE', KEYS[1], 0, extra - 1)) end
        redis.call('PEXPIRE', KEYS[1], keep)
        redis.call('PEXPIRE', KEYS[4], keep)
        local function field(member, n)
            local from = 1
            for _ = 2, n do from = string.find(member, '\31', from, true) + 1 end
            local to = string.find(member, '\31', from, true)
            return string.sub(member, from, to - 1)
        end
        local bound = tonumber(ARGV[5])
        local function holds(n) return (ARGV[4] == 'gt' and n > bound) or (ARGV[4] == 'gte' and n >= bound) end
        local measure
        local start = 1
        local window = nil
        local first = nil
        if kind == 'events' then
            -- Every timespan-long window that holds the hit, from the earliest start, as the
            -- engine's sliding windows: later events other nodes added already count too. While
            -- none holds, each has fewer events than the bound, so this tries fewer starts than that.
            measure = 0
            local from = ts - span
            while true do
                local earliest = redis.call('ZRANGEBYSCORE', KEYS[1], from, ts, 'WITHSCORES', 'LIMIT', 0, 1)
                if #earliest == 0 then break end
                local s = tonumber(earliest[2])
                measure = redis.call('ZCOUNT', KEYS[1], s, s + span)
                if holds(measure) then first = s break end
                from = '(' .. s
            end
        elseif kind == 'values' then
            redis.call('ZADD', KEYS[2], 'GT', ts, ARGV[10])
            -- A value whose latest event is older than every event kept has none left.
            local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
            if #oldest > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. oldest[2]) end
            redis.call('PEXPIRE', KEYS[2], keep)
            measure = redis.call('ZCOUNT', KEYS[2], ts - span, ts)
        else
            window = redis.call('ZRANGEBYSCORE', KEYS[1], ts - span, ts)
            measure = 0
            if kind == 'sum' then
                for _, m in ipairs(window) do measure = measure + tonumber(field(m, 2)) end
            else
                -- ordered: how far into the rules, in order, the window gets from its first event of the first rule
                local rules = tonumber(ARGV[11])
                for i, m in ipairs(window) do
                    local rule = tonumber(field(m, 1))
                    if rule == measure then
                        if measure == 0 then start = i end
                        measure = measure + 1
                        if measure == rules then break end
                    end
                end
            end
        end
        if not holds(measure) then
            return {0}
        end
        local took = redis.call('SET', KEYS[3], ARGV[6], 'NX', 'PX', ARGV[7])
        local owner = took and ARGV[6] or redis.call('GET', KEYS[3])
        if owner == ARGV[6] then
            if not took then redis.call('PEXPIRE', KEYS[3], ARGV[7]) end
            -- The firing accounts for the events of the window that holds not reported before, as
            -- the engine does: the window from the hit's earliest start that holds, or else the
            -- one that starts at the window's first event (of the first rule, for ordered) and
            -- lasts the timespan; events after the hit other nodes added are in it too. An event
            -- this node reported in an attempt not committed (this batch, replayed) counts again.
            if first == nil and window then
                first = tonumber(redis.call('ZSCORE', KEYS[1], window[start]))
            elseif first == nil then
                first = tonumber(redis.call('ZRANGEBYSCORE', KEYS[1], ts - span, ts, 'WITHSCORES', 'LIMIT', 0, 1)[2])
            end
            local attempt = ARGV[6] .. '\31' .. ARGV[17] .. '\31' .. ARGV[18]
            local behind = redis.call('ZRANGEBYSCORE', KEYS[1], first, first + span)
            local new = {}
            for _, m in ipairs(behind) do
                local by = redis.call('HGET', KEYS[5], m)
                local again = false
                if by and by ~= attempt and string.sub(by, 1, #ARGV[6] + 1) == ARGV[6] .. '\31' then
                    -- reported by this node in another attempt: again only if that one was of this batch or later (not committed)
                    local position = string.sub(by, #ARGV[6] + 2, string.find(by, '\31', #ARGV[6] + 2, true) - 1)
                    again = tonumber(position) >= tonumber(ARGV[17])
                end
                if not by or again then
                    redis.call('HSET', KEYS[5], m, attempt)
                    new[#new + 1] = m
                end
            end
            redis.call('PEXPIRE', KEYS[5], keep)
            if #new == 0 then return {0} end
            local events = {}
            for i = 1, math.min(#new, 100) do events[i] = new[i] end
            return {1, #new, events, new[#new]}
        end
        -- a replayed hit was forwarded the first time; the owner counts it from its inbox
        if owner and added == 1 then
            redis.call('HSET', KEYS[5], ARGV[1], 'forwarded')
            redis.call('PEXPIRE', KEYS[5], keep)
            redis.call('XADD', ARGV[13] .. owner, 'MAXLEN', '~', '1000000', '*', 'c', ARGV[14], 'g', ARGV[15], 'm', ARGV[1])
        end
        return {-1}
        """;

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

    public async ValueTask<IReadOnlyList<bool>> RouteAsync(IReadOnlyList<CorrelationHit> hits, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var calls = new Task<RedisResult>[hits.Count];
        for (var i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            var (kept, span) = ISharedDetectionState.KeepingOf(hit);
            RedisKey keeper = $"{prefix}keeper:{kept}";
            // Held while the group may still have a window open (its last hit's window closes within
            // timespan + lateness of it), twice over for clocks that run apart.
            var hold = 2 * (long)(span + correlationOptions.AllowedLateness).TotalMilliseconds;
            var forwarded = new ForwardedWindowHit(hit.Target.Node.Correlation.Id, hit.Target.Member, hit.GroupValues, hit.Value, hit.Number, hit.Event);
            calls[i] = database.ScriptEvaluateAsync(RouteScript, [keeper, keeper.Append(":forwarded")],
                [node, hold, _inboxPrefix, JsonSerializer.Serialize(forwarded, Json), MemberOf(hit.Event, hit.Target.Member, hit.Number)]);
        }
        var results = await Task.WhenAll(calls).WaitAsync(cancellationToken);
        return [.. results.Select(r => (long)r == 1)];
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
