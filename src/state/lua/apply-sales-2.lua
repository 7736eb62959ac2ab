-- Add one sales event to its series' rolling window, atomically and idempotently.
-- KEYS[1] sales hash (bucket -> qty, _max, _min, _ts, _first: first bucket with a positive sale, kept beyond the window)   KEYS[2] seen zset (eventId -> bucket)
-- ARGV[1] eventId  ARGV[2] bucket  ARGV[3] quantity  ARGV[4] window length  ARGV[5] event time ms
-- Returns 1 applied, 0 duplicate (already applied: a replay), -1 older than the window.
local bucket = tonumber(ARGV[2])
local window = tonumber(ARGV[4])
local meta = redis.call('HMGET', KEYS[1], '_max', '_min')
local maxb = tonumber(meta[1])
local minb = tonumber(meta[2])
if minb and bucket < minb then return -1 end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('HINCRBYFLOAT', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], bucket, ARGV[1])
local ts = tonumber(redis.call('HGET', KEYS[1], '_ts') or '0')
if tonumber(ARGV[5]) > ts then redis.call('HSET', KEYS[1], '_ts', ARGV[5]) end
if tonumber(ARGV[3]) > 0 then
  local first = tonumber(redis.call('HGET', KEYS[1], '_first'))
  if (not first) or bucket < first then redis.call('HSET', KEYS[1], '_first', bucket) end
end
if (not maxb) or bucket > maxb then
  local newmin = bucket - window + 1
  redis.call('HSET', KEYS[1], '_max', bucket, '_min', newmin)
  if minb and newmin > minb then
    if newmin - minb > window then
      -- a long jump: scan the (small) hash instead of the whole gap
      for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
        local b = tonumber(f)
        if b and b < newmin then redis.call('HDEL', KEYS[1], f) end
      end
    else
      for b = minb, newmin - 1 do redis.call('HDEL', KEYS[1], tostring(b)) end
    end
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. newmin)
  end
end
return 1
