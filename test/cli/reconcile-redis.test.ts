import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { GitLabClient } from '../../src/gitlab/client.js';
import { createRequester, DEFAULT_REQUESTER_SETTINGS } from '../../src/gitlab/requester.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { connected } from '../../src/queue/redis-inbox.js';
import { RedisRoutingState } from '../../src/worker/redis-routing-state.js';
import { exampleConfig } from '../helpers/config.js';
import { useRedisServer } from '../helpers/redis.js';
import { projectLabels } from '../e2e/stack.js';
import { REPO_ROOT, runCli } from './run-cli.js';

const redisServer = useRedisServer();
const sample = readFileSync(join(REPO_ROOT, 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');

let fake: FakeGitLab | null = null;
const connections: Redis[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) c.disconnect();
  await fake?.stop();
  fake = null;
});

describe('scale-bot reconcile with SCALE_BOT_QUEUE=redis', () => {
  it("routes in the replicas' shared routing memory and paces in their shared windows", async () => {
    fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
    const { iid } = await fake.as('alex.ae').createIssue({
      title: 'Northwind',
      description: `${sample}\n/label ~"segment::mm" ~"region::amr"\n`,
    });
    const env = {
      GITLAB_URL: fake.url,
      GITLAB_TOKEN: fake.botToken,
      GITLAB_PROJECT: fake.project.path_with_namespace,
      GITLAB_NOTES_PER_MINUTE: '6000',
      SCALE_BOT_QUEUE: 'redis',
      REDIS_URL: redisServer().url,
      SCALE_BOT_REDIS_PREFIX: 'cli-reconcile',
    };
    const r = await runCli(['reconcile', '--settle', '0'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fake.issue(iid).assignees.map((a) => a.username)).toEqual(['drew.cse']);

    // A replica on the same prefix sees that assignment at once, from Redis, without reading GitLab.
    const connection = new Redis(redisServer().url);
    connections.push(connection);
    await connected(connection, 5_000);
    const requester = createRequester(DEFAULT_REQUESTER_SETTINGS, pino({ level: 'silent' }), createMetrics());
    const unreachable = new GitLabClient({ url: 'http://127.0.0.1:9', token: 'unused', project: 1 }, requester);
    const replica = new RedisRoutingState(connection, unreachable, exampleConfig, {
      prefix: 'cli-reconcile',
      maxAgeMs: 60_000,
      now: Date.now,
    });
    await replica.ready();
    expect((await replica.workload()).open).toEqual({ 'drew.cse': 1 });
    await requester.stop();
    // Its GitLab calls were counted in the window every replica paces with.
    expect(await connection.zcard('cli-reconcile:pacing:request')).toBeGreaterThan(0);
    fake.assertNoViolations();
  });
});
