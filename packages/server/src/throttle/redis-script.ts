/**
 * The throttle's one Lua script: Redis runs it atomically, so the check and the
 * count of an attempt happen together even when many instances share the
 * Redis. It mirrors policy.ts and memory.ts line for line.
 *
 * KEYS: one hash per throttle key (fields n, f, ws, lock, level; times in unix ms;
 * a hash without f, written by an earlier version, reads as f = 0).
 * ARGV: op ('check' | 'fail' | 'succeed'), now (ms), then per key: limit,
 * windowMs, lockMs, maxLockMs, resetMs, reset (1 = forget on success, 0 = refund).
 * Returns the wait in ms for 'check' (0: allowed, the attempt counted), 0 otherwise.
 * BUSY (ARGV[3]): the wait when attempts in flight hold the rest of a budget.
 *
 * Keys get a relative expiry (PEXPIRE), so a clock difference between the
 * instance and Redis does not matter; instances pass their own clock for `now`,
 * so instances sharing a Redis need synchronised clocks (as JWT expiry already does).
 *
 * @module
 */
export const THROTTLE_SCRIPT = `
local op = ARGV[1]
local now = tonumber(ARGV[2])
local busy = tonumber(ARGV[3])
local function int(x) return string.format('%d', x) end
local function rule(i)
  local b = 3 + (i - 1) * 6
  return {
    limit = tonumber(ARGV[b + 1]), window = tonumber(ARGV[b + 2]), lock = tonumber(ARGV[b + 3]),
    maxlock = tonumber(ARGV[b + 4]), reset = tonumber(ARGV[b + 5]), forget = ARGV[b + 6] == '1'
  }
end
local function load(key, r)
  local v = redis.call('HMGET', key, 'n', 'ws', 'lock', 'level', 'f')
  local rec = { n = tonumber(v[1]) or 0, ws = tonumber(v[2]) or 0, lock = tonumber(v[3]) or 0,
    level = tonumber(v[4]) or 0, f = tonumber(v[5]) or 0, exists = v[2] ~= false }
  if rec.ws + r.window <= now then rec.n = 0; rec.f = 0; rec.ws = now; rec.fresh = true end
  if rec.lock + r.reset <= now then rec.level = 0 end
  return rec
end
local function save(key, r, rec)
  redis.call('HSET', key, 'n', int(rec.n), 'f', int(rec.f), 'ws', int(rec.ws), 'lock', int(rec.lock),
    'level', int(rec.level))
  local forget = rec.ws + r.window
  if rec.lock > 0 and rec.lock + r.reset > forget then forget = rec.lock + r.reset end
  redis.call('PEXPIRE', key, int(math.max(forget - now, 1)))
end
local function lock(rec, r)
  local ms = r.lock * (2 ^ math.min(rec.level, 40))
  if ms > r.maxlock then ms = r.maxlock end
  rec.n = 0; rec.f = 0; rec.ws = now; rec.lock = now + ms; rec.level = math.min(rec.level + 1, 64)
  return ms
end

if op == 'check' then
  local wait = 0
  for i, key in ipairs(KEYS) do
    local l = tonumber(redis.call('HGET', key, 'lock') or '0')
    if l > now and l - now > wait then wait = l - now end
  end
  if wait > 0 then return int(wait) end
  local recs = {}
  for i, key in ipairs(KEYS) do
    local rec = load(key, rule(i))
    recs[i] = rec
    -- Attempts in flight hold the rest of the budget: wait, no lock (only failures lock).
    if rec.n + 1 > rule(i).limit then return int(busy) end
  end
  for i, key in ipairs(KEYS) do
    local rec = recs[i]
    rec.n = rec.n + 1
    save(key, rule(i), rec)
  end
  return 0
elseif op == 'fail' then
  for i, key in ipairs(KEYS) do
    local r = rule(i)
    local l = tonumber(redis.call('HGET', key, 'lock') or '0')
    if redis.call('EXISTS', key) == 1 and l <= now then
      local rec = load(key, r)
      rec.f = rec.f + 1
      if rec.f > rec.n then rec.n = rec.f end
      if rec.f >= r.limit then lock(rec, r) end
      save(key, r, rec)
    end
  end
  return 0
elseif op == 'succeed' then
  for i, key in ipairs(KEYS) do
    local r = rule(i)
    if r.forget then
      redis.call('DEL', key)
    elseif redis.call('EXISTS', key) == 1 then
      local rec = load(key, r)
      if not rec.fresh and rec.n > rec.f then
        rec.n = rec.n - 1
        save(key, r, rec)
      end
    end
  end
  return 0
end
return redis.error_reply('unknown throttle operation')
`;
