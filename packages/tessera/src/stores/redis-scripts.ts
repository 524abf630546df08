/**
 * The Lua scripts of `RedisStore`. Each state change runs as one script, which
 * Redis executes atomically (no other command runs in between), and publishes
 * its revocation in the same script, so a subscriber hears about a revocation
 * if and only if it was written.
 *
 * Every key a script touches is passed in KEYS (the Redis rule that keeps
 * scripts valid on replicas and proxies). Times are unix seconds; keys get
 * absolute expiries (EXPIREAT) so Redis drops them when the token or family
 * expires. Values and messages follow `redis-cache.ts`.
 *
 * Plain strings, no Redis client imported.
 *
 * @module
 */

/** Shared Lua helpers, prepended to scripts that need them. */
const HELPERS = `
local function int(x) return string.format('%d', tonumber(x)) end
-- Moves a key's expiry to 'at' unless it already lives longer (works on Redis 6.0+:
-- EXPIREAT's NX/GT flags need 7.0). A key without expiry (-1) gets one.
local function extend(key, at)
  local ttl = redis.call('TTL', key)
  local t = tonumber(redis.call('TIME')[1])
  if ttl < 0 or t + ttl < tonumber(at) then redis.call('EXPIREAT', key, at) end
end
-- The family is cut off when its user's live cut-off is newer than its creation.
local function cut_off(cut, created, now)
  if not cut then return false end
  local bar = string.find(cut, '|', 1, true)
  local before = tonumber(string.sub(cut, 1, bar - 1))
  local keep = tonumber(string.sub(cut, bar + 1))
  return keep > now and before > tonumber(created)
end
-- The store-wide cut-off ('<revokedBefore>|<generation>', written after a data loss)
-- covers what was created before it.
local function before_everyone(g, created)
  if not g then return false end
  local bar = string.find(g, '|', 1, true)
  return tonumber(string.sub(g, 1, bar - 1)) > tonumber(created)
end
`;

/**
 * KEYS: jti key. ARGV: expiresAt, channel, jti. Keeps the later expiry; publishes
 * `j|exp|jti` and returns it (0 when an equal or later expiry was already stored).
 */
export const REVOKE_TOKEN = `${HELPERS}
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], int(ARGV[1]))
redis.call('EXPIREAT', KEYS[1], ARGV[1])
local msg = 'j|' .. int(ARGV[1]) .. '|' .. ARGV[3]
redis.call('PUBLISH', ARGV[2], msg)
return msg
`;

/**
 * KEYS: cut-off key. ARGV: before, keepUntil, channel, userKey. Keeps both
 * maxima; publishes `c|before|keep|user` and returns it.
 */
export const REVOKE_USER_BEFORE = `${HELPERS}
local before, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur then
  local bar = string.find(cur, '|', 1, true)
  before = math.max(before, tonumber(string.sub(cur, 1, bar - 1)))
  keep = math.max(keep, tonumber(string.sub(cur, bar + 1)))
end
redis.call('SET', KEYS[1], int(before) .. '|' .. int(keep))
redis.call('EXPIREAT', KEYS[1], int(keep))
local msg = 'c|' .. int(before) .. '|' .. int(keep) .. '|' .. ARGV[4]
redis.call('PUBLISH', ARGV[3], msg)
return msg
`;

/**
 * KEYS: family hash, user index (sorted set). ARGV: userKey, jti, now, expiresAt,
 * metadata JSON, familyId. Returns 0 when the family exists.
 */
export const CREATE_FAMILY = `${HELPERS}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'cur', ARGV[2], 'c', ARGV[3], 'lu', ARGV[3], 'exp', ARGV[4], 'm', ARGV[5])
redis.call('EXPIREAT', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[6])
extend(KEYS[2], ARGV[4])
return 1
`;

/**
 * KEYS: family hash, user cut-off key, revoked-family marker, user index,
 * store-wide cut-off, then (when the presented token is checked, see below) its
 * revoked-jti key if ARGV[12] is '1' and its user's cut-off key if ARGV[13] is '1'.
 * ARGV: presented, next, now, graceSeconds, expiresAt, channel, familyId,
 * [8] the user the KEYS were built for ('' when read from the family first),
 * [9] check ('1': check the presented token), [10] the store's clock, [11] the
 * token's iat ('' when absent or not finite: counts as older), [12] has jti key,
 * [13] has cut-off key, [14] names the token ('1': the store-wide cut-off applies).
 *
 * With check, the presented token's own revocation is checked first, by the
 * rules of `isRevoked` (its jti, its user's cut-off against its iat, the
 * store-wide cut-off; its family is the one below): 'revoked', nothing changed.
 * When the family's user is not the one the KEYS were built for, returns
 * {'user', familyUser} and changes nothing: the caller asks again with that
 * user's keys.
 *
 * Returns {'rotated', next, expiresAt} or {'grace', current, expiresAt} (a retry
 * inside the window changes nothing but 'lu' and answers the successor already
 * minted), {'reused', message} (the family is revoked and the revocation
 * published in the same script), or the status alone ('revoked', 'unknown').
 */
export const ROTATE_FAMILY = `${HELPERS}
if ARGV[9] == '1' then
  local at = tonumber(ARGV[10])
  local iat = tonumber(ARGV[11])
  local k = 6
  if ARGV[12] == '1' then
    local exp = redis.call('GET', KEYS[k])
    if exp and at < tonumber(exp) then return 'revoked' end
    k = k + 1
  end
  if ARGV[13] == '1' then
    local cut = redis.call('GET', KEYS[k])
    if cut then
      local bar = string.find(cut, '|', 1, true)
      local before = tonumber(string.sub(cut, 1, bar - 1))
      if at < tonumber(string.sub(cut, bar + 1)) and (not iat or iat < before) then return 'revoked' end
    end
  end
  local g = redis.call('GET', KEYS[5])
  if g and ARGV[14] == '1' then
    local before = tonumber(string.sub(g, 1, string.find(g, '|', 1, true) - 1))
    if before > 0 and (not iat or iat < before) then return 'revoked' end
  end
end
local f = redis.call('HMGET', KEYS[1], 'cur', 'prev', 'rot', 'exp', 'rev', 'c', 'u')
if not f[1] then return 'unknown' end
if ARGV[8] ~= '' and f[7] ~= ARGV[8] then return {'user', f[7] or ''} end
local now = tonumber(ARGV[3])
if f[5] or tonumber(f[4]) <= now then return 'revoked' end
if cut_off(redis.call('GET', KEYS[2]), f[6], now) then return 'revoked' end
if before_everyone(redis.call('GET', KEYS[5]), f[6]) then return 'revoked' end
if f[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'prev', ARGV[1], 'cur', ARGV[2], 'rot', ARGV[3], 'lu', ARGV[3], 'exp', ARGV[5])
  redis.call('EXPIREAT', KEYS[1], ARGV[5])
  extend(KEYS[4], ARGV[5])
  return {'rotated', ARGV[2], int(ARGV[5])}
end
local grace = tonumber(ARGV[4])
if grace > 0 and f[2] == ARGV[1] and f[3] and now <= tonumber(f[3]) + grace then
  redis.call('HSET', KEYS[1], 'lu', ARGV[3])
  return {'grace', f[1], f[4]}
end
redis.call('HSET', KEYS[1], 'rev', ARGV[3])
redis.call('SET', KEYS[3], f[4])
redis.call('EXPIREAT', KEYS[3], f[4])
local msg = 'f|' .. f[4] .. '|' .. ARGV[7]
redis.call('PUBLISH', ARGV[6], msg)
return {'reused', msg}
`;

/**
 * KEYS: pairs of (family hash, revoked marker). ARGV: now, channel, then one
 * familyId per pair, then onlyLive (1: skip expired families). Revokes the
 * unrevoked ones, publishes each, returns {existed count, revoked count, messages...}.
 */
export const REVOKE_FAMILIES = `
local now = tonumber(ARGV[1])
local pairs_n = #KEYS / 2
local only_live = ARGV[3 + pairs_n] == '1'
local existed, revoked = 0, 0
local out = {0, 0}
for i = 1, pairs_n do
  local fam, marker = KEYS[2 * i - 1], KEYS[2 * i]
  local f = redis.call('HMGET', fam, 'exp', 'rev')
  if f[1] then
    existed = existed + 1
    if not f[2] and (not only_live or tonumber(f[1]) > now) then
      redis.call('HSET', fam, 'rev', ARGV[1])
      redis.call('SET', marker, f[1])
      redis.call('EXPIREAT', marker, f[1])
      local msg = 'f|' .. f[1] .. '|' .. ARGV[2 + i]
      redis.call('PUBLISH', ARGV[2], msg)
      out[#out + 1] = msg
      revoked = revoked + 1
    end
  end
end
out[1], out[2] = existed, revoked
return out
`;

/**
 * KEYS: one key. ARGV: now, kind ('j' jti, 'c' cut-off, 'r' revoked marker).
 * Deletes it only if its stored expiry has passed (checked and deleted
 * atomically, so a concurrent revocation that extended it is never lost).
 */
export const PURGE_KEY = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local at
if ARGV[2] == 'c' then at = tonumber(string.sub(v, string.find(v, '|', 1, true) + 1)) else at = tonumber(v) end
if at <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;

/**
 * KEYS: family hash, revoked marker, user index. ARGV: now, familyId.
 * Deletes an expired family and its index entry atomically.
 */
export const PURGE_FAMILY = `
local exp = redis.call('HGET', KEYS[1], 'exp')
if not exp then redis.call('ZREM', KEYS[3], ARGV[2]) return 0 end
if tonumber(exp) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return 1
`;

/**
 * KEYS: user index, then family hashes. ARGV: the family ids, in the same order.
 * Drops index entries whose family hash is gone (expired by Redis). Returns how many.
 */
export const PRUNE_INDEX = `
local n = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    n = n + redis.call('ZREM', KEYS[1], ARGV[i - 1])
  end
end
return n
`;

/**
 * Data-loss detection. KEYS: generation marker, store-wide cut-off. ARGV: the
 * generation this instance saw ('' before its first check), a fresh random
 * generation, the cut-off to write on a loss (now + 1), channel.
 *
 * - First check of an instance: adopt the marker, or create it (SET NX) when absent.
 * - The marker is the one this instance saw: nothing was lost.
 * - The marker is gone or different: the data this instance saw was lost (a Redis
 *   restarted without persistence, a flush). Unless the cut-off already names the
 *   current marker (another instance handled this loss first), write the cut-off
 *   (never moving it backwards) and a new marker, and publish `g|before|generation`.
 *
 * Returns {generation, cut-off value or '', message or ''}.
 */
export const CHECK_GENERATION = `${HELPERS}
local cur = redis.call('GET', KEYS[1])
local g = redis.call('GET', KEYS[2])
if ARGV[1] == '' or cur == ARGV[1] then
  if not cur then
    cur = ARGV[2]
    redis.call('SET', KEYS[1], cur)
  end
  return {cur, g or '', ''}
end
if cur and g and string.sub(g, string.find(g, '|', 1, true) + 1) == cur then
  return {cur, g, ''}
end
local before = tonumber(ARGV[3])
if g then before = math.max(before, tonumber(string.sub(g, 1, string.find(g, '|', 1, true) - 1))) end
local value = int(before) .. '|' .. ARGV[2]
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], value)
local msg = 'g|' .. value
redis.call('PUBLISH', ARGV[4], msg)
return {ARGV[2], value, msg}
`;
