/**
 * Every read-modify-write the Redis coordinator makes, each one Lua script so
 * it is atomic across the fleet. They run through ioredis `defineCommand`,
 * which sends EVALSHA and falls back to EVAL after NOSCRIPT (a SCRIPT FLUSH,
 * a failover, a restarted server).
 *
 * Time inside a script is Redis `TIME`: the one clock every process shares.
 * Durations cross the wire, never moments, so clock skew between hosts does
 * not matter. Every key gets a TTL of at most 600 s on each write, so a scope
 * no one uses leaves nothing behind; only an open circuit whose `openMs` is
 * longer than that lives `openMs` and a minute, so that it holds. Numbers that need fractions come back as
 * strings (Redis truncates a Lua number reply to an integer).
 */

/** The longest TTL any key gets, in ms. */
export const MAX_TTL_MS = 600_000;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`;

/**
 * KEYS: pause. ARGV: ms, channel, process id. Extends the scope's pause to
 * `ms` from now (a later end wins) and publishes the duration.
 */
const pause = `local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) >= ms then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ms)
redis.call('PUBLISH', ARGV[2], 'pause ' .. ARGV[3] .. ' ' .. ms)
return 1`;

/**
 * KEYS: budget. ARGV: cost, capacity, refunds owed, channel, process id.
 * Adds what this process owes, then pays for one retry when the bucket can.
 * Tells the fleet when the bucket stops being full, so processes that stopped
 * sending refunds to a full bucket start again. Returns { paid, tokens }.
 */
const pay = `local cap = tonumber(ARGV[2])
local tokens = math.min(cap, tonumber(redis.call('GET', KEYS[1]) or cap) + tonumber(ARGV[3]))
local full = tokens >= cap
local paid = 0
if tokens >= tonumber(ARGV[1]) then
  tokens = tokens - tonumber(ARGV[1])
  paid = 1
end
redis.call('SET', KEYS[1], tokens, 'PX', ${MAX_TTL_MS})
if full and tokens < cap then redis.call('PUBLISH', ARGV[4], 'spent ' .. ARGV[5]) end
return {paid, tokens}`;

/** KEYS: budget. ARGV: refunds, capacity. Returns the tokens now in the bucket. */
const refund = `local cap = tonumber(ARGV[2])
local tokens = math.min(cap, tonumber(redis.call('GET', KEYS[1]) or cap) + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], tokens, 'PX', ${MAX_TTL_MS})
return tokens`;

/**
 * KEYS: rate, processes. ARGV: perSecond, burst, adaptive (1/0), count,
 * process id, window (ms). The scope's GCRA (virtual scheduling): reserves
 * `count` consecutive slots. Returns { first slot's wait in ms (negative:
 * that much allowance is left), interval, generation, current rate, processes
 * seen in the window }. Also the heartbeat: the process is scored by time in
 * the processes set, so a process that loses Redis knows its share.
 */
const slots = `${NOW}
local per = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'gen', 'halved', 'raised')
local tat = tonumber(s[1]) or now
local rate = math.min(per, tonumber(s[2]) or per)
local gen = tonumber(s[3]) or 0
local halved = tonumber(s[4]) or 0
local raised = tonumber(s[5]) or now
if ARGV[3] == '1' and rate < per then
  local seconds = math.floor((now - raised) / 1000)
  if seconds > 0 then
    raised = raised + seconds * 1000
    rate = math.min(per, rate + seconds * per / 20)
  end
end
local interval = 1000 / rate
local burst = math.max(1, tonumber(ARGV[2]) * rate / per)
if tat < now then tat = now end
local first = tat - (burst - 1) * interval - now
tat = tat + tonumber(ARGV[4]) * interval
redis.call('HSET', KEYS[1], 'tat', tat, 'rate', rate, 'gen', gen, 'halved', halved, 'raised', raised)
redis.call('PEXPIRE', KEYS[1], ${MAX_TTL_MS})
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[6]))
redis.call('PEXPIRE', KEYS[2], ${MAX_TTL_MS})
return {tostring(first), tostring(interval), gen, tostring(rate), redis.call('ZCARD', KEYS[2])}`;

/**
 * KEYS: rate. ARGV: perSecond, channel, process id. The upstream said 429:
 * halve the scope's rate, at most once a second (a burst of 429s is one
 * signal), not below 1/s; bump the generation so every process drops the
 * slots it holds at the old rate. As in one process, the climb earned so far
 * counts first, and a 429 that does not halve still starts the quiet second
 * over. Returns the new generation, or 0.
 */
const halve = `${NOW}
local per = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'gen', 'halved', 'raised')
local rate = math.min(per, tonumber(s[2]) or per)
local seconds = math.floor((now - (tonumber(s[5]) or now)) / 1000)
if rate < per and seconds > 0 then rate = math.min(per, rate + seconds * per / 20) end
if now - (tonumber(s[4]) or 0) < 1000 then
  redis.call('HSET', KEYS[1], 'rate', rate, 'raised', now)
  redis.call('PEXPIRE', KEYS[1], ${MAX_TTL_MS})
  return 0
end
rate = math.max(math.min(1, per), rate / 2)
local tat = math.min(tonumber(s[1]) or now, now + 1000 / rate)
local gen = (tonumber(s[3]) or 0) + 1
redis.call('HSET', KEYS[1], 'tat', tat, 'rate', rate, 'gen', gen, 'halved', now, 'raised', now)
redis.call('PEXPIRE', KEYS[1], ${MAX_TTL_MS})
redis.call('PUBLISH', ARGV[2], 'gen ' .. ARGV[3] .. ' ' .. gen)
return gen`;

/**
 * KEYS: failures, circuit, wait. ARGV: threshold, open ms, channel, process
 * id, probe (1/0), circuit TTL (ms). Counts a failure across the scope. Opens the circuit at the
 * threshold (the circuit key marks it open; the wait key, while it lives,
 * keeps probes out); a failed probe opens it for another `open ms`. Tells the
 * fleet when the count leaves 0, so a success sends a reset only when there
 * is something to reset. Returns { count, 1 when this opened the circuit }.
 */
const fail = `local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ${MAX_TTL_MS})
local ms = tonumber(ARGV[2])
local open = redis.call('EXISTS', KEYS[2]) == 1
if (open and ARGV[5] == '1') or (not open and n >= tonumber(ARGV[1])) then
  redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[6]))
  redis.call('SET', KEYS[3], '1', 'PX', ms)
  redis.call('PUBLISH', ARGV[3], 'open ' .. ARGV[4] .. ' ' .. ms)
  return {n, 1}
end
if n == 1 then redis.call('PUBLISH', ARGV[3], 'fails ' .. ARGV[4]) end
return {n, 0}`;

/**
 * KEYS: failures, circuit, wait. ARGV: channel, process id. A success resets
 * the count and closes an open circuit, and tells the fleet which of the two.
 */
const succeed = `local had = redis.call('DEL', KEYS[1])
if redis.call('DEL', KEYS[2]) == 1 then
  redis.call('DEL', KEYS[3])
  redis.call('PUBLISH', ARGV[1], 'close ' .. ARGV[2])
  return 2
end
if had == 1 then redis.call('PUBLISH', ARGV[1], 'zero ' .. ARGV[2]) end
return had`;

/**
 * KEYS: circuit, wait. ARGV: open ms, circuit TTL (ms). After the wait, exactly one process
 * becomes the probe (SET NX). Returns -1 when the circuit is closed, 0 to the
 * probe, otherwise the ms until a probe may go.
 */
const probe = `if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', tonumber(ARGV[1])) then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 0
end
return math.max(1, redis.call('PTTL', KEYS[2]))`;

/** KEYS: circuit, wait. A probe that ended neither well nor badly (an abort) frees the probe at once. */
const release = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DEL', KEYS[2]) end
return 0`;

/**
 * KEYS: pause, circuit, wait, failures, alive. ARGV: process id. What a
 * process that was not listening (just subscribed, or back after an outage)
 * must know: { pause left (ms), circuit open (1/0), wait left (ms), failure
 * count }. It writes first (the process's mark on the alive key): a Redis
 * that answers reads but refuses writes (maxmemory with noeviction, a replica
 * whose master is gone) is not one to share through.
 */
const sync = `redis.call('SET', KEYS[5], ARGV[1], 'PX', 60000)
return {redis.call('PTTL', KEYS[1]), redis.call('EXISTS', KEYS[2]),
  redis.call('PTTL', KEYS[3]), tonumber(redis.call('GET', KEYS[4]) or 0)}`;

export const SCRIPTS = {
  pause: { keys: 1, lua: pause },
  pay: { keys: 1, lua: pay },
  refund: { keys: 1, lua: refund },
  slots: { keys: 2, lua: slots },
  halve: { keys: 1, lua: halve },
  fail: { keys: 3, lua: fail },
  succeed: { keys: 3, lua: succeed },
  probe: { keys: 2, lua: probe },
  release: { keys: 2, lua: release },
  sync: { keys: 5, lua: sync },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
