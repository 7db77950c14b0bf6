import { afterAll, beforeAll } from 'vitest';
import { startRedisServer, type RedisServerProcess } from '../../src/dev/redis-server.js';

/**
 * A real redis-server for the test file, started before its tests and stopped after them. Call it
 * before registering other `afterAll` hooks: vitest runs them in reverse, so those run while Redis
 * is still up.
 */
export function useRedisServer(): () => RedisServerProcess {
  let redis: RedisServerProcess | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.close();
  });
  return () => {
    if (!redis) throw new Error('the Redis server is only there inside tests');
    return redis;
  };
}
