-- Routes a window hit to the node that keeps its group (taking the group when no node does).
-- Returns 1 when this node keeps it, else 0 (the hit was forwarded, or was the first time).
local keeper_key = KEYS[1]  -- the group's keeper
local forwarded = KEYS[2]   -- the hits forwarded to it
local node = ARGV[1]
local hold_ms = ARGV[2]     -- how long a keeper holds a group it hears nothing of
local inbox_prefix = ARGV[3]
local hit = ARGV[4]         -- the hit as forwarded
local member = ARGV[5]      -- the event as a window holds it (a replayed hit was forwarded the first time)

if redis.call('SET', keeper_key, node, 'NX', 'PX', hold_ms) then return 1 end
local keeper = redis.call('GET', keeper_key)
redis.call('PEXPIRE', keeper_key, hold_ms)
if keeper == node then return 1 end
if redis.call('SADD', forwarded, member) == 1 then
    redis.call('PEXPIRE', forwarded, hold_ms)
    redis.call('XADD', inbox_prefix .. keeper, 'MAXLEN', '~', '1000000', '*', 'w', hit, 'm', member)
end
return 0
