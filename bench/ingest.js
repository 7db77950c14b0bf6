// Webhook ingest: requests/s and acknowledgement latency of POST /webhooks/gitlab with durable
// persistence, against a bare express handler measured in the same run (issue #3, target 1).
// Usage: npm run build && node bench/ingest.js [--runs 3] [--duration 10] [--connections 10]
//          [--rate 500] [--rate-duration 3] [--warmup 2] [--log info|silent] [--profile]
//        node bench/ingest.js --breakdown   (in-process cost of each step of the route, and of each
//                                            SCALE_BOT_DURABILITY setting, ~30 s)
//
// The app is the real one (`createApp` from dist/) with a real `SqliteInbox` on a temp file (WAL,
// synchronous=NORMAL as shipped), the production logger (`createLogger`, level info, written to
// /dev/null) and real metrics; the worker is not running, so every delivery stays in the inbox.
// The baseline (the issue's target) is a bare express app with a body parser that reads every
// body (`express.raw`, 25 MB, every content type) answering 200. The app's webhook route does not
// run on express (src/server/app.ts sends it to a node:http handler first), so a second baseline,
// "node", answers 200 after reading the body with raw-body on plain node:http: the app against it
// is the cost of the checks and the durable write alone, with the same HTTP layer on both sides.
// Each server runs in a child process of its own (one core each for server and load generator on
// a 2-core machine); autocannon runs here. Every request carries a distinct Idempotency-Key, so
// every one is persisted; the body is GitLab's documented Issue Hook example
// (test/fixtures/gitlab/issue-hook-open.json) moved to the app's project, cycling over 100 issue
// iids. Runs rotate between the servers so drift in the machine's load hits each of them.
//
// Latency at a fixed rate is measured twice. autocannon's `overallRate` gives each connection
// rate/connections requests per second and sends them back to back at the start of each second
// (httpClient.js resets a per-second counter), so "500 req/s" is a burst of 500 at full speed then
// idle: it measures latency under a short saturating burst. The paced run is open-loop and evenly
// spaced (one request every 2 ms over up to 10 keep-alive sockets, node:http), latency timed from
// the moment each request is issued, so a server stall delays the requests behind it too.
import { fork } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PROJECT = { id: 15, path: 'sales/scale-engagement-requests' };
const SECRET = 'bench-webhook-secret';
const PATH = '/webhooks/gitlab';

// --- child: one server --------------------------------------------------------------------------

async function serve(kind, logLevel) {
  const express = (await import('express')).default;
  let app;
  let inbox = null;
  let dbFile = null;
  if (kind === 'bare') {
    app = express();
    app.disable('x-powered-by');
    app.post(PATH, express.raw({ type: () => true, limit: '25mb' }), (_req, res) => {
      res.status(200).end();
    });
  } else if (kind === 'node') {
    // The HTTP layer the app's webhook route runs on (node:http + raw-body), doing nothing else.
    const getRawBody = (await import('raw-body')).default;
    app = (req, res) => {
      if (req.method !== 'POST' || req.url !== PATH) {
        res.statusCode = 404;
        res.end();
        return;
      }
      getRawBody(req, { limit: 25 * 1024 * 1024, length: req.headers['content-length'] }, (err) => {
        res.statusCode = err ? 400 : 200;
        res.end();
      });
    };
  } else {
    const { createApp } = await import('../dist/server/app.js');
    const { createMetrics } = await import('../dist/metrics/metrics.js');
    const { SqliteInbox } = await import('../dist/queue/sqlite-inbox.js');
    const { createLogger } = await import('../dist/service/logger.js');
    dbFile = join(mkdtempSync(join(tmpdir(), 'scale-bot-bench-ingest-')), 'inbox.sqlite');
    inbox = SqliteInbox.open(dbFile);
    const metrics = createMetrics(() => inbox.depth());
    const logger = createLogger(logLevel); // stdout of this child is /dev/null
    app = createApp({
      inbox,
      settings: {
        secret: SECRET,
        signingKey: null,
        project: PROJECT,
        botUsername: () => 'scale-bot',
        botUserId: () => null,
      },
      logger: logger.child({ component: 'webhook' }),
      metrics,
      now: Date.now,
      onQueued: () => {},
      readiness: async () => ({ ok: true, checks: { store: 'ok' } }),
    });
  }
  const server = await new Promise((resolve, reject) => {
    const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 5_000; // as startService sets it
  process.on('message', async (msg) => {
    if (msg === 'stats') {
      let stats = {};
      if (inbox) {
        const Database = (await import('better-sqlite3')).default;
        const db = new Database(dbFile, { readonly: true });
        const deliveries = db.prepare('SELECT COUNT(*) AS n FROM deliveries').get().n;
        const jobs = db.prepare('SELECT COUNT(*) AS n FROM jobs').get().n;
        db.close();
        const size = (f) => {
          try {
            return statSync(f).size;
          } catch {
            return 0;
          }
        };
        stats = { deliveries, jobs, depth: inbox.depth(), dbBytes: size(dbFile) + size(`${dbFile}-wal`) };
      }
      process.send({ stats });
    } else if (msg === 'stop') {
      server.closeAllConnections();
      server.close(() => {
        inbox?.close();
        if (dbFile) rmSync(dirname(dbFile), { recursive: true, force: true });
        process.exit(0); // flushes --cpu-prof
      });
    }
  });
  process.send({ port: server.address().port });
}

const role = process.argv.find((a) => a.startsWith('--serve='));
if (process.argv.includes('--breakdown')) {
  await breakdown();
} else if (role) {
  const logLevel = process.argv.find((a) => a.startsWith('--log='))?.slice(6) ?? 'info';
  await serve(role.slice(8), logLevel);
} else {
  await main();
}

// --- parent: load generator ---------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      rate: { type: 'string', default: '500' },
      'rate-duration': { type: 'string', default: '3' },
      warmup: { type: 'string', default: '2' },
      log: { type: 'string', default: 'info' },
      profile: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const rate = Number(values.rate);
  const rateDuration = Number(values['rate-duration']);
  const warmup = Number(values.warmup);
  const autocannon = (await import('autocannon')).default;

  // The documented Issue Hook, moved to the app's project; 100 variants with different issue iids.
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'gitlab', 'issue-hook-open.json'), 'utf8'));
  fixture.project.id = PROJECT.id;
  fixture.project.path_with_namespace = PROJECT.path;
  fixture.object_attributes.project_id = PROJECT.id;
  const bodies = Array.from({ length: 100 }, (_, i) => {
    fixture.object_attributes.iid = i + 1;
    return Buffer.from(JSON.stringify(fixture));
  });
  const baseHeaders = {
    'Content-Type': 'application/json',
    'User-Agent': 'GitLab/18.6.0',
    'X-Gitlab-Event': 'Issue Hook',
    'X-Gitlab-Instance': 'https://gitlab.example.com',
    'X-Gitlab-Token': SECRET,
  };

  const profileDir = values.profile ? mkdtempSync(join(tmpdir(), 'scale-bot-bench-prof-')) : null;
  const start = (kind) =>
    new Promise((resolve, reject) => {
      const execArgv = kind === 'app' && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
      const child = fork(fileURLToPath(import.meta.url), [`--serve=${kind}`, `--log=${values.log}`], {
        execArgv,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
      child.once('message', (m) => resolve({ child, url: `http://127.0.0.1:${m.port}` }));
    });
  const ask = (child) => new Promise((resolve) => child.once('message', (m) => resolve(m.stats)));
  const stop = (child) =>
    new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', () => resolve());
      child.send('stop');
    });

  let seq = 0;
  const run = (url, seconds, fixedRate) =>
    new Promise((resolve, reject) => {
      const samples = []; // exact latencies (ms) from autocannon's own per-response timing
      const opts = {
        url: url + PATH,
        method: 'POST',
        connections,
        duration: seconds,
        timeout: 10,
        headers: baseHeaders,
        requests: [
          {
            setupRequest: (req) => {
              const n = seq++;
              return {
                ...req,
                headers: {
                  ...req.headers,
                  'Idempotency-Key': randomUUID(),
                  'X-Gitlab-Event-UUID': randomUUID(),
                  'X-Gitlab-Webhook-UUID': randomUUID(),
                },
                body: bodies[n % bodies.length],
              };
            },
          },
        ],
        setupClient: (client) => {
          client.on('response', (status, _bytes, ms) => {
            if (status >= 200 && status < 300) samples.push(ms);
          });
        },
      };
      // autocannon "corrects" rate-limited latencies with an expected interval of ceil(1/rate) =
      // 1 ms (seconds/ms mix-up), adding fake samples; the exact samples above are used instead.
      if (fixedRate) Object.assign(opts, { overallRate: fixedRate, ignoreCoordinatedOmission: true });
      autocannon(opts, (err, result) => (err ? reject(err) : resolve({ result, samples })));
    });

  // Open-loop, evenly spaced requests: request i is issued at t0 + i / rate (timer resolution ~1 ms).
  const paced = (url, seconds, perSecond) =>
    new Promise((resolve) => {
      const { hostname, port } = new URL(url);
      const agent = new Agent({ keepAlive: true, maxSockets: connections });
      const samples = [];
      const codes = new Set();
      let bad = 0;
      let sent = 0;
      let done = 0;
      const total = Math.round(seconds * perSecond);
      const t0 = performance.now();
      const finish = () => {
        clearTimeout(guard);
        agent.destroy();
        resolve({
          result: {
            '2xx': samples.length,
            duration: seconds,
            non2xx: bad,
            errors: 0,
            timeouts: total - done,
            statusCodeStats: Object.fromEntries([...codes].map((c) => [c, 1])),
          },
          samples,
        });
      };
      const guard = setTimeout(finish, seconds * 1000 + 10_000); // bounded even if the server hangs
      const issue = () => {
        const n = seq++;
        const body = bodies[n % bodies.length];
        const began = performance.now();
        const req = request(
          {
            agent,
            hostname,
            port,
            path: PATH,
            method: 'POST',
            headers: {
              ...baseHeaders,
              'Content-Length': body.length,
              'Idempotency-Key': randomUUID(),
              'X-Gitlab-Event-UUID': randomUUID(),
              'X-Gitlab-Webhook-UUID': randomUUID(),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              codes.add(res.statusCode);
              if (res.statusCode >= 200 && res.statusCode < 300) samples.push(performance.now() - began);
              else bad++;
              if (++done === total) finish();
            });
          },
        );
        req.on('error', () => {
          bad++;
          if (++done === total) finish();
        });
        req.end(body);
      };
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) * perSecond) / 1000) + 1);
        while (sent < due) {
          sent++;
          issue();
        }
        if (sent < total) setTimeout(tick, 1);
      };
      tick();
    });

  const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const summarise = ({ result, samples }) => {
    const sorted = Float64Array.from(samples).sort();
    const ok = result['2xx'];
    return {
      rps: ok / result.duration,
      ok,
      bad: result.non2xx + result.errors + result.timeouts,
      p50: pct(sorted, 50),
      p99: pct(sorted, 99),
      max: sorted[sorted.length - 1],
      codes: Object.keys(result.statusCodeStats).join('/'),
    };
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const f1 = (x) => x.toFixed(1);
  const f2 = (x) => x.toFixed(2);
  const int = (x) => Math.round(x).toLocaleString('en-US');

  const load0 = loadavg()[0];
  const bare = await start('bare');
  const node = await start('node');
  const app = await start('app');
  const servers = { bare, node, app };
  try {
    // Warm-up (JIT, SQLite page cache, WAL file creation); not reported.
    for (const kind of ['bare', 'node', 'app']) await run(servers[kind].url, warmup);
    for (const kind of ['bare', 'app']) await paced(servers[kind].url, 1, rate); // warms node:http in this process

    // Latency first: the max-throughput runs write a few hundred MB to the inbox, and the kernel's
    // writeback of it afterwards stalls every process on this VM (bare handler included).
    const fixed = { bare: [], app: [] };
    const even = { bare: [], app: [] };
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? ['bare', 'app'] : ['app', 'bare'];
      for (const kind of order) fixed[kind].push(summarise(await run(servers[kind].url, rateDuration, rate)));
      for (const kind of order) even[kind].push(summarise(await paced(servers[kind].url, rateDuration, rate)));
    }
    const max = { bare: [], node: [], app: [] };
    const rotations = [
      ['bare', 'node', 'app'],
      ['app', 'bare', 'node'],
      ['node', 'app', 'bare'],
    ];
    for (let r = 0; r < runs; r++) {
      for (const kind of rotations[r % 3]) max[kind].push(summarise(await run(servers[kind].url, duration)));
    }
    const stats = await (async () => {
      const p = ask(app.child);
      app.child.send('stats');
      return p;
    })();

    console.log(
      `machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), node ${process.version}, load average ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`,
    );
    console.log(
      `body: documented Issue Hook, ${bodies[0].length} bytes; app log level ${values.log} (to /dev/null); ${connections} connections; warm-up ${warmup} s (+1 s paced) per server; measured in this order: fixed-rate runs (fresh inbox), then max-throughput runs`,
    );
    console.log(`\nmax throughput (${runs} runs of ${duration} s each, rotating between the servers):`);
    for (const kind of ['bare', 'node', 'app']) {
      const xs = max[kind];
      console.log(
        `  ${kind.padEnd(4)}: median ${int(median(xs.map((x) => x.rps)))} req/s (runs: ${xs.map((x) => int(x.rps)).join(', ')}); ` +
          `p50 ${f2(median(xs.map((x) => x.p50)))} ms, p99 ${f2(median(xs.map((x) => x.p99)))} ms; status ${[...new Set(xs.map((x) => x.codes))].join(',')}, non-2xx/errors ${xs.reduce((n, x) => n + x.bad, 0)}`,
      );
    }
    const ratio = median(max.app.map((x) => x.rps)) / median(max.bare.map((x) => x.rps));
    const perRunRatios = max.app.map((x, i) => x.rps / max.bare[i].rps);
    console.log(`  ratio app/bare: ${ratio.toFixed(3)} (per run: ${perRunRatios.map((x) => x.toFixed(3)).join(', ')})`);
    const nodeRatio = median(max.app.map((x) => x.rps)) / median(max.node.map((x) => x.rps));
    console.log(
      `  ratio app/node: ${nodeRatio.toFixed(3)} (per run: ${max.app.map((x, i) => (x.rps / max.node[i].rps).toFixed(3)).join(', ')}): the cost of the checks and the durable write on the app's own HTTP layer`,
    );

    console.log(
      `\nfixed rate ${rate} req/s (autocannon overallRate, ${runs} runs of ${rateDuration} s each; exact per-response latencies):`,
    );
    for (const kind of ['bare', 'app']) {
      const xs = fixed[kind];
      console.log(
        `  ${kind.padEnd(4)}: p50 median ${f2(median(xs.map((x) => x.p50)))} ms, p99 median ${f2(median(xs.map((x) => x.p99)))} ms ` +
          `(p99 runs: ${xs.map((x) => f2(x.p99)).join(', ')}; max ${f1(Math.max(...xs.map((x) => x.max)))} ms); ${int(median(xs.map((x) => x.rps)))} req/s achieved`,
      );
    }
    console.log(
      `\nfixed rate ${rate} req/s, evenly paced (open loop, node:http, ${runs} runs of ${rateDuration} s each):`,
    );
    for (const kind of ['bare', 'app']) {
      const xs = even[kind];
      console.log(
        `  ${kind.padEnd(4)}: p50 median ${f2(median(xs.map((x) => x.p50)))} ms, p99 median ${f2(median(xs.map((x) => x.p99)))} ms ` +
          `(p99 runs: ${xs.map((x) => f2(x.p99)).join(', ')}; max ${f1(Math.max(...xs.map((x) => x.max)))} ms); ${int(median(xs.map((x) => x.rps)))} req/s achieved, non-2xx/errors ${xs.reduce((n, x) => n + x.bad, 0)}`,
      );
    }
    const appP99 = median(fixed.app.map((x) => x.p99));
    const appP99Even = median(even.app.map((x) => x.p99));
    console.log(
      `\ninbox after the run: ${int(stats.deliveries)} deliveries persisted (2xx answers from the app: ${int(
        [...max.app, ...fixed.app, ...even.app].reduce((n, x) => n + x.ok, 0),
      )} + warm-up), ${stats.jobs} jobs, ${(stats.dbBytes / 1e6).toFixed(0)} MB on disk`,
    );
    console.log(`target throughput ≥ 0.7× bare: ${ratio >= 0.7 ? 'met' : 'NOT met'} (${ratio.toFixed(3)})`);
    console.log(
      `target p99 ≤ 10 ms at ${rate} req/s, autocannon overallRate (per-second bursts): ${appP99 <= 10 ? 'met' : 'NOT met'} (${f2(appP99)} ms)`,
    );
    console.log(
      `target p99 ≤ 10 ms at ${rate} req/s, evenly paced: ${appP99Even <= 10 ? 'met' : 'NOT met'} (${f2(appP99Even)} ms)`,
    );
  } finally {
    await Promise.all([stop(bare.child), stop(node.child), stop(app.child)]);
  }
  if (profileDir) summariseProfile(profileDir);
}

// --- --breakdown: what each step of the route costs, in process -------------------------------

async function breakdown() {
  const { SqliteInbox } = await import('../dist/queue/sqlite-inbox.js');
  const { parseWebhook } = await import('../dist/gitlab/webhook-schemas.js');
  const { tokenMatches } = await import('../dist/server/verify.js');
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'gitlab', 'issue-hook-open.json'), 'utf8'));
  fixture.project.id = PROJECT.id;
  fixture.object_attributes.project_id = PROJECT.id;
  const raw = JSON.stringify(fixture);
  const json = JSON.parse(raw);
  const dir = mkdtempSync(join(tmpdir(), 'scale-bot-bench-breakdown-'));
  const delivery = (i) => ({
    key: randomUUID(),
    event: 'Issue Hook',
    uuid: null,
    body: raw,
    issue: { projectId: PROJECT.id, iid: (i % 100) + 1 },
    receivedAt: Date.now(),
  });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // Median over 5 rounds of the mean time per call.
  const cost = (name, count, fn) => {
    for (let i = 0; i < 1000; i++) fn(i);
    const rounds = [];
    for (let r = 0; r < 5; r++) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < count; i++) fn(i);
      rounds.push(Number(process.hrtime.bigint() - t) / 1e3 / count);
    }
    console.log(
      `  ${name.padEnd(58)} ${median(rounds).toFixed(1).padStart(6)} µs  (rounds: ${rounds.map((x) => x.toFixed(1)).join(', ')})`,
    );
  };
  const inbox = (name, pragma) => {
    const ib = SqliteInbox.open(join(dir, `${name}.sqlite`));
    if (pragma) ib['db'].pragma(pragma); // bench-only experiment on the private connection
    return ib;
  };
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), node ${process.version}, load average ${loadavg()[0].toFixed(2)}`,
  );
  console.log(`cost per call, back to back (body ${raw.length} bytes):`);
  cost('JSON.parse(body)', 20000, () => JSON.parse(raw));
  cost('parseWebhook (zod schema)', 20000, () => parseWebhook('Issue Hook', json));
  cost('tokenMatches (2 × sha256 + timingSafeEqual)', 20000, () => tokenMatches('x', SECRET));
  const shipped = inbox('shipped');
  cost('inbox.accept, as shipped (WAL, synchronous=NORMAL)', 4000, (i) => shipped.accept(delivery(i), Date.now()));
  const off = inbox('sync-off', 'synchronous = OFF');
  cost('inbox.accept, synchronous=OFF (no fsync at checkpoints)', 4000, (i) => off.accept(delivery(i), Date.now()));
  const mem = SqliteInbox.open(':memory:');
  cost('inbox.accept, :memory: (SQL work only, no file)', 4000, (i) => mem.accept(delivery(i), Date.now()));
  // SCALE_BOT_DURABILITY (issue #16, point 8): process = synchronous=NORMAL (the WAL is fsynced at
  // checkpoints), power = FULL (fsynced at every commit). Rounds alternate so drift in the machine's
  // load hits both; the ratio is taken within this run.
  const durable = {
    process: SqliteInbox.open(join(dir, 'process.sqlite'), undefined, { durability: 'process' }),
    power: SqliteInbox.open(join(dir, 'power.sqlite'), undefined, { durability: 'power' }),
  };
  const perCall = { process: [], power: [] };
  for (let r = 0; r < 14; r++) {
    const name = r % 2 === 0 ? 'process' : 'power';
    const t = process.hrtime.bigint();
    for (let i = 0; i < 500; i++) durable[name].accept(delivery(i), Date.now());
    perCall[name].push(Number(process.hrtime.bigint() - t) / 1e3 / 500);
  }
  for (const name of ['process', 'power']) {
    console.log(
      `  inbox.accept, SCALE_BOT_DURABILITY=${name.padEnd(7)} (synchronous=${name === 'power' ? 'FULL  ' : 'NORMAL'}) ${median(perCall[name]).toFixed(1).padStart(6)} µs  (rounds: ${perCall[name].map((x) => x.toFixed(1)).join(', ')})`,
    );
  }
  console.log(
    `  ratio power/process: ${(median(perCall.power) / median(perCall.process)).toFixed(2)} (at most ${Math.round(1e6 / median(perCall.power))} vs ${Math.round(1e6 / median(perCall.process))} commits/s, one at a time)`,
  );
  for (const ib of Object.values(durable)) ib.close();
  // Stalls: accepts at an even 500/s, each timed; a WAL auto-checkpoint (every 1000 pages, about
  // 300 deliveries of this size) copies the WAL into the database and fsyncs it inside a COMMIT.
  console.log('inbox.accept at an even 500/s for 6 s (3000 calls), each call timed:');
  for (const [name, pragma] of [
    ['as shipped (wal_autocheckpoint=1000)', null],
    ['wal_autocheckpoint=0 (no checkpoint inside COMMIT)', 'wal_autocheckpoint = 0'],
  ]) {
    const ib = inbox(name.replace(/\W+/g, '-'), pragma);
    const took = [];
    await new Promise((resolve) => {
      let n = 0;
      const t0 = performance.now();
      const tick = () => {
        const due = Math.min(3000, Math.floor((performance.now() - t0) / 2) + 1);
        while (n < due) {
          const t = performance.now();
          ib.accept(delivery(n), Date.now());
          took.push(performance.now() - t);
          n++;
        }
        if (n < 3000) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    took.sort((a, b) => a - b);
    console.log(
      `  ${name.padEnd(52)} p50 ${took[1499].toFixed(3)} ms, p99 ${took[2969].toFixed(2)} ms, max ${took[2999].toFixed(1)} ms; calls > 5 ms: ${took.filter((x) => x > 5).length}, > 20 ms: ${took.filter((x) => x > 20).length}`,
    );
    ib.close();
  }
  for (const ib of [shipped, off, mem]) ib.close();
  rmSync(dir, { recursive: true, force: true });
}

// --- CPU profile summary (--profile) ------------------------------------------------------------

function summariseProfile(dir) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return console.log('no profile written');
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++)
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const short = (url) =>
    url
      .replace(/^file:\/\//, '')
      .replace(`${ROOT}/`, '')
      .replace(/^.*node_modules\//, '');
  const key = (n) =>
    `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url) || ''}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  const area = (n) => {
    const u = n.callFrame.url;
    if (!u) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native/V8)';
    if (u.startsWith('node:')) return 'node core';
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
    if (m) return m[1];
    return short(u);
  };
  const bucket = (map, k, v) => map.set(k, (map.get(k) ?? 0) + v);
  const selfByFn = new Map();
  const selfByArea = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    bucket(selfByFn, key(n), us);
    bucket(selfByArea, area(n), us);
  }
  // Inclusive time per function (a function's own time plus its callees'), counted once per sample.
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  for (const [id, us] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur));
      if (!seen.has(k)) {
        seen.add(k);
        bucket(incl, k, us);
      }
    }
  }
  const busy = total - (selfByArea.get('(idle)') ?? 0);
  const pc = (us) => `${((100 * us) / busy).toFixed(1)}%`.padStart(6);
  const top = (map, n) =>
    [...map]
      .filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n);
  console.log(
    `\nCPU profile of the app process (${file}): ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy; shares of busy time`,
  );
  console.log('self time by area:');
  for (const [k, us] of top(selfByArea, 12)) console.log(`  ${pc(us)}  ${k}`);
  console.log('self time by function:');
  for (const [k, us] of top(selfByFn, 20)) console.log(`  ${pc(us)}  ${k}`);
  console.log('inclusive time, selected:');
  const wanted =
    /webhook-route|sqlite-inbox|webhook-schemas|metrics\.js|verify\.js|^JSON|pino|express\/lib|body-parser|raw-body|zod|better-sqlite3/;
  for (const [k, us] of top(incl, 400)
    .filter(([k]) => wanted.test(k))
    .slice(0, 25))
    console.log(`  ${pc(us)}  ${k}`);
  console.log(`profile kept in ${dir}`);
}
