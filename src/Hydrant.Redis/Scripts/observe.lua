-- Adds one correlation hit to its group's window and says whether the window now fires here.
-- The result: 0 (not satisfied, or nothing new), -1 (another node's alert: the hit is forwarded
-- to that node's inbox), or 1 (this node's alert) followed by the number of events newly behind
-- it, up to 100 of them (oldest first) and the newest.
-- Each event is a member "rule index, number, id, time, type, source" joined by \x1f, the same
-- text for a replayed event.
local events_key = KEYS[1]       -- the group's events, scored by event time
local distinct_key = KEYS[2]     -- its distinct values or rules (value_count, temporal), scored by their latest time
local owner_key = KEYS[3]    -- the alert's owner
local horizon_key = KEYS[4]     -- the events again, scored by horizon (when each may be dropped)
local reported_key = KEYS[5]     -- who reported each event: "node \x1f batch \x1f attempt", or "forwarded"

local member = ARGV[1]
local ts = tonumber(ARGV[2])           -- the hit's event time (ms)
local span = tonumber(ARGV[3])         -- the correlation's timespan (ms)
local op = ARGV[4]                     -- gt or gte
local bound = tonumber(ARGV[5])
local node = ARGV[6]                   -- this node
local owner_ms = ARGV[7]               -- how long an owner holds the alert (suppression + timespan)
local keep = tonumber(ARGV[8])         -- how long events are kept past their horizon (timespan + lateness)
local kind = ARGV[9]                   -- events, values, sum or ordered
local value = ARGV[10]                 -- the distinct value (values)
local rules = tonumber(ARGV[11])       -- how many rules the correlation relates (ordered)
local max_events = tonumber(ARGV[12])  -- the most events a group keeps
local inbox_prefix = ARGV[13]
local correlation = ARGV[14]
local group = ARGV[15]
local clock = tonumber(ARGV[16])       -- the adding node's stream clock
local position = ARGV[17]              -- the batch's spool position (this attempt's)
local attempt_token = ARGV[18]         -- tells this attempt's reports from an earlier one's

local added = redis.call('ZADD', events_key, ts, member)
-- Each event's horizon (its time, or the adding node's stream clock if later) decides how
-- long it is kept, as in the engine: not its place in event time.
if added == 1 then redis.call('ZADD', horizon_key, math.max(ts, clock), member) end
local function drop(members)
    for i = 1, #members, 500 do
        local part = {unpack(members, i, math.min(i + 499, #members))}
        redis.call('ZREM', events_key, unpack(part))
        redis.call('ZREM', horizon_key, unpack(part))
        redis.call('HDEL', reported_key, unpack(part))
    end
end
drop(redis.call('ZRANGEBYSCORE', horizon_key, '-inf', '(' .. (clock - keep)))
local extra = redis.call('ZCARD', events_key) - max_events
if extra > 0 then drop(redis.call('ZRANGE', events_key, 0, extra - 1)) end
redis.call('PEXPIRE', events_key, keep)
redis.call('PEXPIRE', horizon_key, keep)
local function field(member, n)
    local from = 1
    for _ = 2, n do from = string.find(member, '\31', from, true) + 1 end
    local to = string.find(member, '\31', from, true)
    return string.sub(member, from, to - 1)
end
local function holds(n) return (op == 'gt' and n > bound) or (op == 'gte' and n >= bound) end
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
        local earliest = redis.call('ZRANGEBYSCORE', events_key, from, ts, 'WITHSCORES', 'LIMIT', 0, 1)
        if #earliest == 0 then break end
        local s = tonumber(earliest[2])
        measure = redis.call('ZCOUNT', events_key, s, s + span)
        if holds(measure) then first = s break end
        from = '(' .. s
    end
elseif kind == 'values' then
    redis.call('ZADD', distinct_key, 'GT', ts, value)
    -- A value whose latest event is older than every event kept has none left.
    local oldest = redis.call('ZRANGE', events_key, 0, 0, 'WITHSCORES')
    if #oldest > 0 then redis.call('ZREMRANGEBYSCORE', distinct_key, '-inf', '(' .. oldest[2]) end
    redis.call('PEXPIRE', distinct_key, keep)
    measure = redis.call('ZCOUNT', distinct_key, ts - span, ts)
else
    window = redis.call('ZRANGEBYSCORE', events_key, ts - span, ts)
    measure = 0
    if kind == 'sum' then
        for _, m in ipairs(window) do measure = measure + tonumber(field(m, 2)) end
    else
        -- ordered: how far into the rules, in order, the window gets from its first event of the first rule
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
local took = redis.call('SET', owner_key, node, 'NX', 'PX', owner_ms)
local owner = took and node or redis.call('GET', owner_key)
if owner == node then
    if not took then redis.call('PEXPIRE', owner_key, owner_ms) end
    -- The firing accounts for the events of the window that holds not reported before, as
    -- the engine does: the window from the hit's earliest start that holds, or else the
    -- one that starts at the window's first event (of the first rule, for ordered) and
    -- lasts the timespan; events after the hit other nodes added are in it too. An event
    -- this node reported in an attempt not committed (this batch, replayed) counts again.
    if first == nil and window then
        first = tonumber(redis.call('ZSCORE', events_key, window[start]))
    elseif first == nil then
        first = tonumber(redis.call('ZRANGEBYSCORE', events_key, ts - span, ts, 'WITHSCORES', 'LIMIT', 0, 1)[2])
    end
    local attempt = node .. '\31' .. position .. '\31' .. attempt_token
    local behind = redis.call('ZRANGEBYSCORE', events_key, first, first + span)
    local new = {}
    for _, m in ipairs(behind) do
        local by = redis.call('HGET', reported_key, m)
        local again = false
        if by and by ~= attempt and string.sub(by, 1, #node + 1) == node .. '\31' then
            -- reported by this node in another attempt: again only if that one was of this batch or later (not committed)
            local reported_position = string.sub(by, #node + 2, string.find(by, '\31', #node + 2, true) - 1)
            again = tonumber(reported_position) >= tonumber(position)
        end
        if not by or again then
            redis.call('HSET', reported_key, m, attempt)
            new[#new + 1] = m
        end
    end
    redis.call('PEXPIRE', reported_key, keep)
    if #new == 0 then return {0} end
    local shown = {}
    for i = 1, math.min(#new, 100) do shown[i] = new[i] end
    return {1, #new, shown, new[#new]}
end
-- a replayed hit was forwarded the first time; the owner counts it from its inbox
if owner and added == 1 then
    redis.call('HSET', reported_key, member, 'forwarded')
    redis.call('PEXPIRE', reported_key, keep)
    redis.call('XADD', inbox_prefix .. owner, 'MAXLEN', '~', '1000000', '*', 'c', correlation, 'g', group, 'm', member)
end
return {-1}
