import { describe, expect, it } from 'vitest';
import { RedisInbox } from '../../src/queue/redis-inbox.js';
import { runCli } from './run-cli.js';
import { useRedisServer } from '../helpers/redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redisServer = useRedisServer();

/** A pass for the issue, claimed and dead-lettered as a worker would; its job id. */
async function deadLetter(prefix: string, iid: number, error: string): Promise<number> {
  const inbox = await RedisInbox.connect(redisServer().url, { prefix, quietMs: 0 });
  try {
    const issue = { projectId: 1, iid };
    await inbox.accept({ key: `k${iid}`, event: 'Issue Hook', uuid: null, body: '{}', issue, receivedAt: Date.now() });
    let job = null;
    for (let i = 0; i < 100 && !job; i++) {
      job = await inbox.claim(Date.now());
      if (!job) await sleep(20);
    }
    expect(job).not.toBeNull();
    await inbox.fail(job!, error);
    return job!.id;
  } finally {
    await inbox.close();
  }
}

describe('scale-bot inbox with SCALE_BOT_QUEUE=redis', () => {
  it('lists and retries the passes kept in Redis under the prefix', async () => {
    const env = { SCALE_BOT_QUEUE: 'redis', REDIS_URL: redisServer().url, SCALE_BOT_REDIS_PREFIX: 't-cli' };
    const failedId = await deadLetter('t-cli', 41, 'GitLabHttpError: 403 Forbidden');
    const failed = await runCli(['inbox', 'list', '--failed', '--json'], { env });
    expect(failed.code).toBe(0);
    expect(
      (JSON.parse(failed.stdout) as Array<{ id: number; issue: { iid: number }; lastError: string }>).map((j) => [
        j.id,
        j.issue.iid,
        j.lastError,
      ]),
    ).toEqual([[failedId, 41, 'GitLabHttpError: 403 Forbidden']]);
    expect(await runCli(['inbox', 'retry', String(failedId)], { env })).toMatchObject({
      code: 0,
      stdout: `re-queued job ${failedId}\n`,
    });
    expect((await runCli(['inbox', 'list', '--failed'], { env })).stdout).toBe('no failed jobs\n');
    const all = await runCli(['inbox', 'list', '--json'], { env });
    expect(
      (JSON.parse(all.stdout) as Array<{ issue: { iid: number }; status: string }>).map((j) => [j.issue.iid, j.status]),
    ).toEqual([[41, 'pending']]);
  });

  it('REDIS_URL missing: a settings error, exit 2', async () => {
    const r = await runCli(['inbox', 'list'], { env: { SCALE_BOT_QUEUE: 'redis' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('REDIS_URL is required when SCALE_BOT_QUEUE is redis');
  });
});
