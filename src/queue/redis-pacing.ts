import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { paceWindows, type PaceKind, type PaceLimits, type Pacer, type PaceWindow } from '../gitlab/pacing.js';
import { sleepUnlessAborted } from '../gitlab/shared-abort-sleep.js';

/**
 * Takes one call from a sliding window shared by every replica: the window's log (a sorted set of
 * call times) holds at most `limit` entries younger than `interval`. Returns 0 when the call may
 * go, else how many ms to wait. Time is Redis's own (TIME), one clock for every replica. A pause
 * key set after a 429 holds every call until it passes.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - interval)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], interval)
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return math.max(1, oldest + interval - now)`;

/** Moves the shared pause later, never earlier. ARGV[1] is how long from Redis's now (ms). */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then redis.call('SET', KEYS[1], untilMs, 'PX', ARGV[1]) end
return 0`;

interface PacingCommands {
  paceAcquire(log: string, pause: string, limit: number, intervalMs: number, member: string): Promise<number>;
  pacePause(pause: string, forMs: number): Promise<number>;
}

/**
 * GitLab's limits are per token: replicas sharing one share this pacer, so three replicas never
 * send three times the allowed rate. The same windows as one process's pacing (see `paceWindows`).
 * When Redis is unreachable a call fails (the pass is retried later) rather than going unpaced.
 */
export function redisPacer(redis: Redis, settings: PaceLimits, prefix: string): Pacer {
  const client = redis as Redis & PacingCommands;
  client.defineCommand('paceAcquire', { numberOfKeys: 2, lua: ACQUIRE });
  client.defineCommand('pacePause', { numberOfKeys: 1, lua: PAUSE });
  const windows: Record<PaceKind, PaceWindow> = paceWindows(settings);
  const pauseKey = `${prefix}:pacing:pause`;
  return {
    async acquire(kind, signal) {
      const { limit, intervalMs } = windows[kind];
      const member = randomUUID();
      for (;;) {
        signal.throwIfAborted();
        const waitMs = await client.paceAcquire(`${prefix}:pacing:${kind}`, pauseKey, limit, intervalMs, member);
        if (waitMs <= 0) return;
        await sleepUnlessAborted(waitMs, signal);
      }
    },
    async pause(untilMs) {
      const forMs = Math.ceil(untilMs - Date.now());
      if (forMs <= 0) return;
      // Best effort: the replica that saw the 429 pauses itself anyway.
      await client.pacePause(pauseKey, forMs).catch(() => 0);
    },
  };
}
