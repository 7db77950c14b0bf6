// Many replicas on Redis (issue #17): real redis-server, the fake GitLab, 1-3 `scale-bot serve`
// processes (SCALE_BOT_QUEUE=redis) behind a round-robin proxy.
// Usage: npm run build && node bench/scale.js [--requests 150] [--rpm 300] [--replicas 1,2,3]
//        [--kill-requests 1000] [--rpm-free 2000] [--kill-every 3] [--redis-down 2]
//        [--phases throughput,kill,redis]
//
// Every replica process calls GitLab with a token of its own (the fake logs which, as GitLab's API
// log has token_id), and each phase is audited from what the fake GitLab saw once every pass has
// ended (src/dev/scale-audit.ts): each request assigned, exactly one request note, one assignee, one
// mention of that CSE and one write that assigned it; no pass of an issue overlapping another; the
// busiest 60 s (sliding) of the bot's calls at most the configured limit. A failed audit makes the
// exit code 1.
//
// throughput: for each of `--replicas` (fresh fake and key prefix each), `--requests` new requests
//   created 10 at a time with GITLAB_REQUESTS_PER_MINUTE=`--rpm`, chosen so that the shared limit
//   binds (a request costs ~5 calls). Webhooks/s answered 2xx while the requests were created (the
//   fake delivers one webhook at a time, so this is bound by one delivery's round trip), and
//   requests handled per second (assigned with their note) until the last one.
// kill: 3 replicas, `--kill-requests` new requests (limit `--rpm-free`, GitLab.com's default) while
//   one replica is SIGKILLed `--kill-every` s after the previous one answered again on its port,
//   until every request is handled. Every request
//   whose delivery was answered 2xx must be handled; a killed replica's passes wait for their lock
//   to expire (SCALE_BOT_REDIS_LOCK_SECONDS, the bot's default of 30 s; BullMQ's stalled check
//   runs every half lock), so the phase ends with that wait.
// redis: 3 replicas, `--requests` new requests (limit `--rpm-free`); Redis is stopped (SIGTERM) for
//   `--redis-down` s after the first half while 10 more (at most) are created; recovery is timed from Redis
//   answering again to every replica ready, to the requests of the outage handled, and to all.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { loadConfig } from '../dist/config/load-config.js';
import { readNoteMarker } from '../dist/domain/bot-note-marker.js';
import { startRedisServer } from '../dist/dev/redis-server.js';
import { startRoundRobinProxy } from '../dist/dev/round-robin-proxy.js';
import { auditRequests, busiestWindow, issuesSharedByProcesses, overlappingPasses } from '../dist/dev/scale-audit.js';
import { PASS_QUEUE } from '../dist/queue/redis-inbox.js';
import { startFakeGitLab } from '../dist/fake-gitlab/server.js';

const ROOT = join(import.meta.dirname, '..');
const CONFIG = join(ROOT, '.gitlab', 'scale-bot.yml');
const SECRET = 'bench-scale-secret';
const ASSIGNED = 'engagement::assigned';
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '150' },
    rpm: { type: 'string', default: '300' },
    replicas: { type: 'string', default: '1,2,3' },
    'kill-requests': { type: 'string', default: '1000' },
    'rpm-free': { type: 'string', default: '2000' },
    'kill-every': { type: 'string', default: '3' },
    'redis-down': { type: 'string', default: '2' },
    phases: { type: 'string', default: 'throughput,kill,redis' },
  },
});
const opts = {
  requests: Number(values.requests),
  rpm: Number(values.rpm),
  replicas: values.replicas.split(',').map(Number),
  killRequests: Number(values['kill-requests']),
  rpmFree: Number(values['rpm-free']),
  killEveryMs: Number(values['kill-every']) * 1000,
  redisDownMs: Number(values['redis-down']) * 1000,
  phases: values.phases.split(','),
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((l) => +l.toFixed(2));
const seconds = (ms) => +(ms / 1000).toFixed(1);
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

/**
 * One `scale-bot serve` replica on a fixed port; `start` waits until /healthz answers. Each start
 * is a new process with a token of its own, so the fake's log tells the processes apart.
 */
function replica(fake, env, port) {
  let child = null;
  let starts = 0;
  const start = async () => {
    const token = `bench-replica-${port}-${++starts}`;
    fake.addToken(token, fake.botUsername);
    child = spawn(process.execPath, [join(ROOT, 'bin', 'scale-bot.js'), 'serve'], {
      env: { ...process.env, ...env, GITLAB_TOKEN: token, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 400; i++) {
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

async function cluster(redis, replicas, prefix, rpm) {
  // The fake reports the same limit in its RateLimit-* headers (it counts; it does not refuse).
  const fake = await startFakeGitLab({ labels, apiRateLimit: rpm });
  const env = {
    GITLAB_URL: fake.url,
    GITLAB_PROJECT: fake.project.path_with_namespace,
    GITLAB_WEBHOOK_SECRET: SECRET,
    SCALE_BOT_CONFIG: CONFIG,
    SCALE_BOT_QUEUE: 'redis',
    REDIS_URL: redis.url,
    SCALE_BOT_REDIS_PREFIX: prefix,
    SCALE_BOT_RECONCILE_MINUTES: '0',
    GITLAB_REQUESTS_PER_MINUTE: String(rpm),
    GITLAB_NOTES_PER_MINUTE: '60000',
    LOG_LEVEL: 'error',
  };
  const nodes = [];
  for (let i = 0; i < replicas; i++) nodes.push(replica(fake, env, await freePort()));
  await Promise.all(nodes.map((n) => n.start()));
  const proxy = await startRoundRobinProxy(nodes.map((n) => n.url));
  fake.setWebhook({ url: `${proxy.url}/webhooks/gitlab`, token: SECRET });
  // The pass queue as the replicas share it: the audit waits for it to drain.
  const passes = new Queue(PASS_QUEUE, { connection: { url: redis.url }, prefix });
  // The redis phase stops Redis on purpose; the queue reconnects by itself.
  passes.on('error', () => {});
  return {
    fake,
    nodes,
    passes,
    rpm,
    async close() {
      await passes.close();
      await proxy.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await fake.stop();
    },
  };
}

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

/** Assigned, with the bot's request note: the pass that handled the request has written all. */
const handled = (fake, iid) =>
  fake.issue(iid).labels.includes(ASSIGNED) &&
  fake.botNotes(iid).some((n) => readNoteMarker(n.body)?.key === 'request');

/** Resolves with the time (performance.now()) the last of `iids` was handled, or null after `withinMs`. */
async function untilHandled(fake, iids, withinMs) {
  const until = Date.now() + withinMs;
  const pending = new Set(iids);
  while (Date.now() < until) {
    for (const iid of pending) if (handled(fake, iid)) pending.delete(iid);
    if (pending.size === 0) return performance.now();
    await sleep(100);
  }
  return null;
}

/**
 * Waits until no pass runs or waits in any replica (twice in a row, as a finished pass may queue
 * one more). A pass sets the label and assignee before it posts its note, so the audit reads only
 * once every pass has ended.
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

/** Webhooks answered 2xx among `deliveries`, and the iids they were about. */
function acknowledged(deliveries) {
  const ok = deliveries.filter((d) => d.status !== null && d.status >= 200 && d.status < 300);
  const iids = new Set(ok.map((d) => d.payload?.object_attributes?.iid ?? d.payload?.issue?.iid).filter(Boolean));
  return { count: ok.length, iids };
}

/** How many deliveries got each status (`none` when the webhook got no answer at all). */
function byStatus(deliveries) {
  const counts = {};
  for (const d of deliveries) counts[d.status ?? 'none'] = (counts[d.status ?? 'none'] ?? 0) + 1;
  return counts;
}

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** The audit of one phase from the fake's state and log; `problems` > 0 fails the run. */
function audit(c, iids) {
  const calls = c.fake.callsBy(c.fake.botUsername);
  const requests = auditRequests(c.fake, iids, ASSIGNED);
  const overlaps = overlappingPasses(calls);
  const busiestMinute = busiestWindow(
    calls.map((call) => call.at),
    60_000,
  );
  const overLimit = busiestMinute > c.rpm;
  return {
    problems: requests.length + overlaps.length + (overLimit ? 1 : 0),
    requestProblems: requests.length,
    overlappingPasses: overlaps.length,
    busiestMinute,
    limitPerMinute: c.rpm,
    gitlabCalls: calls.length,
    callsPerRequest: +(calls.length / iids.length).toFixed(2),
    processes: new Set(calls.map((call) => call.tokenId)).size,
    issuesSharedByProcesses: issuesSharedByProcesses(calls),
    sample: [...requests.slice(0, 3), ...overlaps.slice(0, 3)],
  };
}

let failed = false;
function report(result) {
  if (result.audit.problems > 0 || result.allHandled === false || result.drained === false) failed = true;
  console.log(JSON.stringify(result));
}

async function throughput(redis) {
  for (const replicas of opts.replicas) {
    const loadBefore = load();
    const c = await cluster(redis, replicas, `bench-throughput-${replicas}-${Date.now()}`, opts.rpm);
    const t0 = performance.now();
    const iids = await createAll(c.fake, 0, opts.requests);
    const created = performance.now();
    const during = c.fake.deliveries.slice();
    const done = await untilHandled(c.fake, iids, 900_000);
    const drained = await untilDrained(c.passes, 60_000);
    report({
      phase: 'throughput',
      replicas,
      requests: iids.length,
      webhooksPerS: +(acknowledged(during).count / ((created - t0) / 1000)).toFixed(1),
      deliveryMsP50: percentile(
        during.map((d) => d.ms),
        50,
      ),
      deliveryMsP99: percentile(
        during.map((d) => d.ms),
        99,
      ),
      handledPerS: done === null ? null : +(iids.length / ((done - t0) / 1000)).toFixed(2),
      seconds: done === null ? null : seconds(done - t0),
      allHandled: done !== null,
      drained,
      audit: audit(c, iids),
      loadBefore,
      loadAfter: load(),
    });
    await c.close();
  }
}

async function kills(redis) {
  const loadBefore = load();
  const c = await cluster(redis, 3, `bench-kill-${Date.now()}`, opts.rpmFree);
  let killing = true;
  let killed = 0;
  let lastKill = 0;
  const restartMs = [];
  // The next kill waits for the last replica killed to answer again: two of three stay up.
  const killer = (async () => {
    while (killing) {
      await sleep(opts.killEveryMs);
      if (!killing) break;
      const node = c.nodes[killed++ % c.nodes.length];
      await node.kill();
      lastKill = performance.now();
      await node.start();
      restartMs.push(performance.now() - lastKill);
    }
  })();
  const t0 = performance.now();
  const iids = await createAll(c.fake, 0, opts.killRequests);
  const created = performance.now();
  // Each request's own delivery has been answered by now (creating it waits for that).
  const acked = acknowledged(c.fake.deliveries);
  const ackedIids = iids.filter((iid) => acked.iids.has(iid));
  // The kills go on until every request is handled: passes of a killed replica come back once
  // their lock expires and the stalled check runs.
  const done = await untilHandled(c.fake, ackedIids, 600_000);
  killing = false;
  await killer;
  const drained = await untilDrained(c.passes, 240_000);
  const unacknowledged = iids.filter((iid) => !acked.iids.has(iid));
  report({
    phase: 'kill -9',
    requests: iids.length,
    kills: killed,
    restartSecondsMedian: seconds(percentile(restartMs, 50) ?? 0),
    deliveries: c.fake.deliveries.length,
    acknowledged: acknowledged(c.fake.deliveries).count,
    notAnswered2xxByStatus: byStatus(c.fake.deliveries.filter((d) => !(d.status >= 200 && d.status < 300))),
    requestsWithoutAcknowledgedDelivery: unacknowledged.length,
    ofThoseHandledAnyway: unacknowledged.filter((iid) => handled(c.fake, iid)).length,
    allHandled: done !== null,
    drained,
    createSeconds: seconds(created - t0),
    seconds: done === null ? null : seconds(done - t0),
    afterLastKillSeconds: done === null ? null : seconds(done - lastKill),
    audit: audit(c, ackedIids),
    loadBefore,
    loadAfter: load(),
  });
  await c.close();
}

/**
 * Waits until every replica's /readyz answers 200; returns when, and the checks that were not ok
 * in the last refusal seen (what held readiness back longest).
 */
async function untilReady(nodes, withinMs) {
  const until = Date.now() + withinMs;
  let lastRefusal = null;
  const ready = async (n) => {
    try {
      const answer = await fetch(`${n.url}/readyz`);
      const body = await answer.json().catch(() => null);
      if (!answer.ok) lastRefusal = Object.entries(body?.checks ?? {}).filter(([, v]) => !/^ok\b/.test(v));
      return answer.ok;
    } catch {
      return false;
    }
  };
  while (Date.now() < until) {
    if ((await Promise.all(nodes.map(ready))).every(Boolean)) return { at: performance.now(), lastRefusal };
    await sleep(200);
  }
  return { at: null, lastRefusal };
}

async function redisRestart(redis) {
  const loadBefore = load();
  const c = await cluster(redis, 3, `bench-redis-${Date.now()}`, opts.rpmFree);
  const half = Math.floor(opts.requests / 2);
  const outage = Math.min(10, opts.requests - half);
  const t0 = performance.now();
  const first = await createAll(c.fake, 0, half);
  const before = c.fake.deliveries.length;
  await redis.stop();
  const down = performance.now();
  const during = await createAll(c.fake, half, outage, 2);
  await sleep(Math.max(0, opts.redisDownMs - (performance.now() - down)));
  await redis.start();
  const back = performance.now();
  const refused = c.fake.deliveries.slice(before).filter((d) => d.status === 503).length;
  const [ready, duringDone, after] = await Promise.all([
    untilReady(c.nodes, 120_000),
    untilHandled(c.fake, during, 300_000),
    createAll(c.fake, half + outage, opts.requests - half - outage),
  ]);
  const iids = [...first, ...during, ...after];
  const done = await untilHandled(c.fake, iids, 300_000);
  const drained = await untilDrained(c.passes, 60_000);
  report({
    phase: 'redis restart',
    requests: iids.length,
    downSeconds: seconds(back - down),
    createdWhileDown: during.length,
    refused503: refused,
    allHandled: done !== null,
    drained,
    readyAfterSeconds: ready.at === null ? null : seconds(ready.at - back),
    notReadyLastBecause: ready.lastRefusal,
    outageRequestsHandledAfterSeconds: duringDone === null ? null : seconds(duringDone - back),
    allHandledAfterSeconds: done === null ? null : seconds(done - back),
    seconds: done === null ? null : seconds(done - t0),
    audit: audit(c, iids),
    loadBefore,
    loadAfter: load(),
  });
  await c.close();
}

const redis = await startRedisServer({ appendfsync: 'everysec' });
console.log(JSON.stringify({ loadAverage: load(), options: opts }));
try {
  if (opts.phases.includes('throughput')) await throughput(redis);
  if (opts.phases.includes('kill')) await kills(redis);
  if (opts.phases.includes('redis')) await redisRestart(redis);
} finally {
  await redis.close();
  console.log(JSON.stringify({ loadAverageAfter: load(), audit: failed ? 'FAILED' : 'passed' }));
}
process.exitCode = failed ? 1 : 0;
