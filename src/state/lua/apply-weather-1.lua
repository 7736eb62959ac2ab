-- Store weather for one bucket of a store or region; an observation beats a forecast,
-- then the later report wins (ties broken by JSON text: order-independent).
-- KEYS[1] weather hash (bucket -> JSON {rank, eventTime, ...})
-- ARGV[1] bucket  ARGV[2] JSON  ARGV[3] rank (2 observation, 1 forecast)  ARGV[4] event time ms
-- ARGV[5] prune: drop buckets below this
-- Returns 1 stored, 0 unchanged.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  if cur == ARGV[2] then return 0 end
  local old = cjson.decode(cur)
  local r, t = tonumber(ARGV[3]), tonumber(ARGV[4])
  if old.rank > r or (old.rank == r and (old.eventTime > t or (old.eventTime == t and cur > ARGV[2]))) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local prune = tonumber(ARGV[5])
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if tonumber(f) < prune then redis.call('HDEL', KEYS[1], f) end
end
return 1
