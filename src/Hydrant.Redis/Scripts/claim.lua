-- Takes (or keeps) the alert of a rule and group for this node. A node that does not own it
-- forwards to the owner's inbox the events not forwarded before (a replayed batch's are).
-- Returns 1 when this node owns the alert, else 0.
local owner_key = KEYS[1]   -- the alert's owner
local forwarded = KEYS[2]   -- the events already forwarded for it
local node = ARGV[1]
local window_ms = ARGV[2]   -- the suppression window
local inbox_prefix = ARGV[3]
local rule = ARGV[4]
local group = ARGV[5]
-- ARGV[6] and on: the events, as windows hold them

if redis.call('SET', owner_key, node, 'NX', 'PX', window_ms) then return 1 end
local owner = redis.call('GET', owner_key)
if owner == node then
    redis.call('PEXPIRE', owner_key, window_ms)
    return 1
end
if owner then
    for i = 6, #ARGV do
        if redis.call('SADD', forwarded, ARGV[i]) == 1 then
            redis.call('XADD', inbox_prefix .. owner, 'MAXLEN', '~', '1000000', '*', 'c', rule, 'g', group, 'm', ARGV[i])
        end
    end
    redis.call('PEXPIRE', forwarded, window_ms)
end
return 0
