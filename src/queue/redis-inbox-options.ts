// Apart from redis-inbox.ts so that reading the settings does not load BullMQ and ioredis
// (every CLI command reads them; only the Redis mode needs the queue).

export interface RedisInboxOptions {
  /** Key prefix of everything this inbox stores (BullMQ's `prefix`); replicas of one bot share it. */
  prefix: string;
  /** A pass runs this long after the first delivery of a burst; the deliveries meanwhile ride along. */
  quietMs: number;
  /**
   * The per-issue lease and BullMQ's job lock (SCALE_BOT_REDIS_LOCK_SECONDS): renewed every third
   * of it while a pass runs, taken over by another replica once expired.
   */
  leaseMs: number;
  /** How long delivery bodies and dedup keys are kept (replay and `Idempotency-Key`). */
  deliveryTtlMs: number;
  /** Finished passes kept for `inbox list`. */
  keepDone: number;
}

export const DEFAULT_REDIS_INBOX: RedisInboxOptions = {
  prefix: 'scale-bot',
  quietMs: 250,
  leaseMs: 30_000,
  deliveryTtlMs: 7 * 24 * 3_600_000,
  keepDone: 1_000,
};
