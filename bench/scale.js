// Many replicas on Redis (issue #17): real redis-server, the fake GitLab, 1-3 `scale-bot serve`
// processes (SCALE_BOT_QUEUE=redis) behind a round-robin proxy.
// Usage: npm run build && node bench/scale.js [--requests 150] [--kill-requests 1000] [--rpm 2000]
//        [--kill-every 3] [--phases throughput,kill,redis]
//
// throughput: for 1, 2 and 3 replicas (fresh fake and key prefix each), `--requests` new requests
//   created 10 at a time; webhooks/s answered 2xx, passes/s until every request is assigned, and the
//   busiest 60 s of the bot's GitLab calls against GITLAB_REQUESTS_PER_MINUTE (`--rpm`, shared).
// kill: 3 replicas, `--kill-requests` new requests while one replica is SIGKILLed every
//   `--kill-every` s and started again on its port; then every acknowledged request must be
//   assigned once, with exactly one request note and one CSE mention (no duplicate assignment).
//   A killed replica's passes wait for their lock to expire (SCALE_BOT_REDIS_LOCK_SECONDS, 30 s by
//   default) before another replica takes them, so this phase ends with that wait.
// redis: 3 replicas; Redis is stopped for 2 s in the middle of 100 new requests; the recovery time
//   is from Redis answering again to every request being assigned.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { loadConfig } from '../dist/config/load-config.js';
import { readNoteMarker } from '../dist/domain/bot-note-marker.js';
import { startRedisServer } from '../dist/dev/redis-server.js';
import { startRoundRobinProxy } from '../dist/dev/round-robin-proxy.js';
import { PASS_QUEUE } from '../dist/queue/redis-inbox.js';
import { startFakeGitLab } from '../dist/fake-gitlab/server.js';

const ROOT = join(import.meta.dirname, '..');
const CONFIG = join(ROOT, '.gitlab', 'scale-bot.yml');
const SECRET = 'bench-scale-secret';
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '150' },
    'kill-requests': { type: 'string', default: '1000' },
    rpm: { type: 'string', default: '2000' },
    'kill-every': { type: 'string', default: '3' },
    phases: { type: 'string', default: 'throughput,kill,redis' },
  },
});
const opts = {
  requests: Number(values.requests),
  killRequests: Number(values['kill-requests']),
  rpm: Number(values.rpm),
  killEveryMs: Number(values['kill-every']) * 1000,
  phases: values.phases.split(','),
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const config = loadConfig(CONFIG);
const labels = [
  ...new Set(
    config.forms.flatMap((f) => [config.catalog.segmentLabel(f.segment), config.catalog.regionLabel(f.region)]),
  ),
];
const sample = readFileSync(join(ROOT, 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');

function request(n) {
  const customer = `Scale Account ${String(n).padStart(5, '0')}`;
  const text = sample
    .replace('Northwind Traders', customer)
    .replace('0014M00001lAbCdQAK', `001SCAL${String(n).padStart(8, '0')}`);
  return {
    title: `Scale request: ${customer}`,
    description: `${text.trimEnd()}\n\n/label ~"segment::mm" ~"region::amr"\n`,
  };
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One `scale-bot serve` process; `start` waits until /healthz answers. */
function replica(env, port) {
  let child = null;
  const start = async () => {
    child = spawn(process.execPath, [join(ROOT, 'bin', 'scale-bot.js'), 'serve'], {
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`replica on ${port} did not start`);
  };
  const exited = (c) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
  const signal = async (sig) => {
    const c = child;
    child = null;
    if (!c) return;
    c.kill(sig);
    await exited(c);
  };
  return { url: `http://127.0.0.1:${port}`, start, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

async function cluster(redis, replicas, prefix) {
  const fake = await startFakeGitLab({ labels });
  const env = {
    GITLAB_URL: fake.url,
    GITLAB_TOKEN: fake.botToken,
    GITLAB_PROJECT: fake.project.path_with_namespace,
    GITLAB_WEBHOOK_SECRET: SECRET,
    SCALE_BOT_CONFIG: CONFIG,
    SCALE_BOT_QUEUE: 'redis',
    REDIS_URL: redis.url,
    SCALE_BOT_REDIS_PREFIX: prefix,
    SCALE_BOT_RECONCILE_MINUTES: '0',
    GITLAB_REQUESTS_PER_MINUTE: String(opts.rpm),
    GITLAB_NOTES_PER_MINUTE: '60000',
    LOG_LEVEL: 'error',
  };
  const nodes = [];
  for (let i = 0; i < replicas; i++) nodes.push(replica(env, await freePort()));
  await Promise.all(nodes.map((n) => n.start()));
  const proxy = await startRoundRobinProxy(nodes.map((n) => n.url));
  fake.setWebhook({ url: `${proxy.url}/webhooks/gitlab`, token: SECRET });
  // The pass queue as the replicas share it: the audit waits for it to drain.
  const passes = new Queue(PASS_QUEUE, { connection: { url: redis.url }, prefix });
  return {
    fake,
    nodes,
    passes,
    async close() {
      await passes.close();
      await proxy.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await fake.stop();
    },
  };
}

const assigned = (fake, iid) => fake.issue(iid).labels.includes('engagement::assigned');

async function createAll(fake, from, count, parallel = 10) {
  const iids = [];
  let next = from;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < from + count) {
        const n = next++;
        iids.push((await fake.as('alex.ae').createIssue(request(n))).iid);
      }
    }),
  );
  return iids;
}

async function untilAssigned(fake, iids, withinMs) {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (iids.every((iid) => assigned(fake, iid))) return true;
    await sleep(100);
  }
  return false;
}

/**
 * Waits until no pass runs or waits in any replica. A pass sets the label and assignee before it
 * posts its note, so an issue can read as assigned while its pass is still writing: the audit
 * reads only once every pass has ended (twice in a row, as a finished pass may queue one more).
 */
async function untilDrained(passes, withinMs) {
  const until = Date.now() + withinMs;
  let quiet = 0;
  while (Date.now() < until) {
    const c = await passes.getJobCounts('active', 'wait', 'delayed', 'prioritized');
    quiet = Object.values(c).every((n) => n === 0) ? quiet + 1 : 0;
    if (quiet === 2) return true;
    await sleep(200);
  }
  return false;
}

/** The most calls the bot made in any 60 s window. */
function busiestMinute(fake) {
  const times = fake
    .callsBy(fake.botUsername)
    .map((c) => c.at)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 60_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return { most, total: times.length, spanS: times.length ? (times.at(-1) - times[0]) / 1000 : 0 };
}

/** Exactly one request note, one assignee and one mention of the CSE per issue. */
function audit(fake, iids) {
  const problems = [];
  for (const iid of iids) {
    const issue = fake.issue(iid);
    const notes = fake.botNotes(iid).filter((n) => readNoteMarker(n.body)?.key === 'request').length;
    const cse = issue.assignees.map((a) => a.username);
    const told = cse.length === 1 ? fake.mentions.filter((m) => m.iid === iid && m.username === cse[0]).length : 0;
    if (!assigned(fake, iid) || notes !== 1 || cse.length !== 1 || told !== 1)
      problems.push({ iid, assigned: assigned(fake, iid), notes, assignees: cse, cseMentions: told });
  }
  return problems;
}

async function throughput(redis) {
  for (const replicas of [1, 2, 3]) {
    const c = await cluster(redis, replicas, `bench-throughput-${replicas}-${Date.now()}`);
    const t0 = performance.now();
    const iids = await createAll(c.fake, 0, opts.requests);
    const created = (performance.now() - t0) / 1000;
    const ok = await untilAssigned(c.fake, iids, 300_000);
    const done = (performance.now() - t0) / 1000;
    const drained = await untilDrained(c.passes, 60_000);
    const answered = c.fake.deliveries.filter((d) => d.status >= 200 && d.status < 300).length;
    const calls = busiestMinute(c.fake);
    const problems = audit(c.fake, iids);
    console.log(
      JSON.stringify({
        phase: 'throughput',
        replicas,
        requests: iids.length,
        webhooksPerS: +(answered / created).toFixed(1),
        passesPerS: +(iids.length / done).toFixed(2),
        allAssigned: ok,
        drained,
        problems: problems.length,
        sample: problems.slice(0, 5),
        gitlabCalls: calls.total,
        busiestMinute: calls.most,
        limitPerMinute: opts.rpm,
      }),
    );
    await c.close();
  }
}

async function kills(redis) {
  const c = await cluster(redis, 3, `bench-kill-${Date.now()}`);
  let killing = true;
  let killed = 0;
  const killer = (async () => {
    while (killing) {
      await sleep(opts.killEveryMs);
      if (!killing) break;
      const node = c.nodes[killed++ % c.nodes.length];
      await node.kill();
      await node.start();
    }
  })();
  const t0 = performance.now();
  const iids = await createAll(c.fake, 0, opts.killRequests);
  killing = false;
  await killer;
  const acknowledged = c.fake.deliveries.filter((d) => d.status >= 200 && d.status < 300).length;
  const refused = c.fake.deliveries.filter((d) => d.status >= 300).length;
  // Passes of a killed replica come back once their lock (30 s by default) expires and the stalled check runs.
  const ok = await untilAssigned(c.fake, iids, 240_000);
  const drained = await untilDrained(c.passes, 240_000);
  const problems = audit(c.fake, iids);
  console.log(
    JSON.stringify({
      phase: 'kill -9',
      requests: iids.length,
      kills: killed,
      acknowledged,
      refusedOrFailed: refused,
      allAssigned: ok,
      drained,
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
      problems: problems.length,
      sample: problems.slice(0, 5),
      busiestMinute: busiestMinute(c.fake).most,
      limitPerMinute: opts.rpm,
    }),
  );
  await c.close();
}

async function redisRestart(redis) {
  const c = await cluster(redis, 3, `bench-redis-${Date.now()}`);
  const first = await createAll(c.fake, 0, 50);
  await redis.stop();
  const during = await createAll(c.fake, 50, 10, 2);
  await sleep(2_000);
  await redis.start();
  const back = performance.now();
  const after = await createAll(c.fake, 60, 40);
  const iids = [...first, ...during, ...after];
  const ok = await untilAssigned(c.fake, iids, 120_000);
  const recovered = performance.now();
  const drained = await untilDrained(c.passes, 60_000);
  console.log(
    JSON.stringify({
      phase: 'redis restart',
      requests: iids.length,
      refused: c.fake.deliveries.filter((d) => d.status === 503).length,
      allAssigned: ok,
      drained,
      recoverySeconds: +((recovered - back) / 1000).toFixed(1),
      problems: audit(c.fake, iids).length,
    }),
  );
  await c.close();
}

const redis = await startRedisServer({ appendfsync: 'everysec' });
console.log(JSON.stringify({ loadAverage: loadavg().map((l) => +l.toFixed(2)), options: opts }));
try {
  if (opts.phases.includes('throughput')) await throughput(redis);
  if (opts.phases.includes('kill')) await kills(redis);
  if (opts.phases.includes('redis')) await redisRestart(redis);
} finally {
  await redis.close();
  console.log(JSON.stringify({ loadAverageAfter: loadavg().map((l) => +l.toFixed(2)) }));
}
