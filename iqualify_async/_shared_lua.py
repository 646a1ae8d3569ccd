"""The Lua scripts of the shared rate limit: each runs atomically inside Redis.

The state of one limit is a Redis hash: ``rate``, ``tokens``, ``ts`` (refill time),
``paused`` (until), ``epoch`` (of the last slowdown), ``target`` (fast recovery up to it),
``succ`` (a success seen in this epoch) and ``probe`` (probing upward since). Time is Redis's
own (``TIME``), so the clocks of the processes do not matter. A new budget (no hash yet, or
one unused for an hour) starts at the ``start`` rate with its target at the ceiling, so it
doubles every ``recovery_time`` of successes until the first 429 or the ceiling (slow start).
The bucket holds ``burst`` tokens, fewer in proportion while the rate is below ``start``.
"""

from __future__ import annotations

from typing import Final

_PROLOGUE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local k = KEYS[1]
local ceiling = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local start = tonumber(ARGV[9]) or ceiling
local s = redis.call('HMGET', k, 'rate', 'tokens', 'ts', 'paused', 'epoch', 'target', 'succ',
                     'probe')
local rate = tonumber(s[1]) or start
local tokens = tonumber(s[2]) or burst
local ts = tonumber(s[3]) or now
local paused = tonumber(s[4]) or 0
local epoch = tonumber(s[5]) or 0
local target = tonumber(s[6]) or ceiling
local succ = tonumber(s[7]) or 0
local probe = tonumber(s[8]) or -1
"""
_EPILOGUE: Final = """
redis.call('HSET', k, 'rate', tostring(rate), 'tokens', tostring(tokens), 'ts', tostring(ts),
           'paused', tostring(paused), 'epoch', epoch, 'target', tostring(target),
           'succ', succ, 'probe', tostring(probe))
redis.call('PEXPIRE', k, tonumber(ARGV[3]))
"""

# ARGV: ceiling, burst, ttl_ms, want, successes, success_epoch, increase, recovery_time,
# start (the rate of a new budget)
TAKE_SCRIPT: Final = (
    _PROLOGUE
    + """
local n = tonumber(ARGV[5])
if n > 0 then
  if tonumber(ARGV[6]) == epoch then succ = 1 end
  local increase = tonumber(ARGV[7])
  local recovery = tonumber(ARGV[8])
  if increase > 0 and rate < ceiling then
    for i = 1, n do
      if rate < target then
        rate = math.min(target, rate + math.log(2) / recovery)
      else
        if probe < 0 then probe = now end
        rate = rate + increase * 2 ^ math.min(20, (now - probe) / recovery)
      end
    end
    rate = math.min(ceiling, rate)
  end
end
local capacity = math.max(1, burst * math.min(1, rate / start))
local granted = 0
local wait = 0
if now < paused then
  wait = paused - now
else
  if now > ts then tokens = math.min(capacity, tokens + (now - ts) * rate) end
  ts = math.max(ts, now)
  granted = math.min(tonumber(ARGV[4]), math.floor(tokens + 0.000001))
  if granted > 0 then
    tokens = tokens - granted
  else
    wait = (1 - tokens) / rate
  end
end
"""
    + _EPILOGUE
    + "return {granted, tostring(wait), epoch, tostring(rate)}\n"
)

# ARGV: ceiling, burst, ttl_ms, epoch, pause, decrease_factor, min_rate, successes_in_epoch,
# start (the rate of a new budget)
LIMITED_SCRIPT: Final = (
    _PROLOGUE
    + """
if tonumber(ARGV[4]) ~= epoch then
  return {0, tostring(rate), epoch}
end
if tonumber(ARGV[8]) > 0 then succ = 1 end
local before = rate
rate = math.max(math.min(tonumber(ARGV[7]), ceiling), before * tonumber(ARGV[6]))
if succ == 1 then target = 0.9 * before end
succ = 0
probe = -1
epoch = epoch + 1
paused = math.max(paused, now + tonumber(ARGV[5]))
tokens = 0
ts = paused
"""
    + _EPILOGUE
    + "return {1, tostring(rate), epoch}\n"
)


# KEYS[1]: the sorted set of held slots (member: holder id, score: expiry). ARGV: cap, ttl, id
SLOT_SCRIPT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000) + 1000)
  return 1
end
return 0
"""

__all__ = ["LIMITED_SCRIPT", "SLOT_SCRIPT", "TAKE_SCRIPT"]
