-- Store one shelf-price change of a series, idempotently, and prune changes older than the window.
-- KEYS[1] prices hash (fromBucket -> "price|eventTime", _reg -> "regularPrice|eventTime")
-- ARGV[1] fromBucket  ARGV[2] price  ARGV[3] event time ms  ARGV[4] regular price or ''
-- ARGV[5] prune: drop changes before this bucket, except the newest of them (still in force)
-- Returns 1 stored, 0 unchanged (a replay or an older event for the same bucket).
-- For one bucket the later event wins; equal times keep the lower price text, so the
-- result does not depend on delivery order.
local function newer(cur, t, v)
  if not cur then return true end
  local sep = string.find(cur, '|', 1, true)
  local ct = tonumber(string.sub(cur, sep + 1))
  if ct ~= t then return t > ct end
  return v < string.sub(cur, 1, sep - 1)
end
local t = tonumber(ARGV[3])
local changed = 0
if ARGV[4] ~= '' and newer(redis.call('HGET', KEYS[1], '_reg'), t, ARGV[4]) then
  redis.call('HSET', KEYS[1], '_reg', ARGV[4] .. '|' .. ARGV[3])
  changed = 1
end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur ~= ARGV[2] .. '|' .. ARGV[3] and newer(cur, t, ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
  changed = 1
end
if changed == 1 then
  local prune = tonumber(ARGV[5])
  local keep = nil
  local old = {}
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    local b = tonumber(f)
    if b and b < prune then
      table.insert(old, b)
      if (not keep) or b > keep then keep = b end
    end
  end
  for _, b in ipairs(old) do
    if b ~= keep then redis.call('HDEL', KEYS[1], tostring(b)) end
  end
end
return changed
