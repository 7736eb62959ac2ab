-- Store (or replace) one promotion in a store's promotion hash, and prune ended ones.
-- KEYS[1] store promotions hash (promotionId -> JSON with endMs, eventTime)
-- ARGV[1] promotionId  ARGV[2] JSON  ARGV[3] announcement time ms  ARGV[4] prune: end before this ms
-- Returns 1 stored, 0 identical or older version (a replay changes nothing).
-- Newer announcement wins; equal times are broken by the JSON text so the result does not
-- depend on delivery order.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  if cur == ARGV[2] then return 0 end
  local old = cjson.decode(cur)
  local t = tonumber(ARGV[3])
  if old.eventTime > t or (old.eventTime == t and cur > ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local prune = tonumber(ARGV[4])
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if f ~= ARGV[1] then
    local p = cjson.decode(redis.call('HGET', KEYS[1], f))
    if p.endMs < prune then redis.call('HDEL', KEYS[1], f) end
  end
end
return 1
