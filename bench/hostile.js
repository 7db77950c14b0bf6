// Hostile senders and a held store lock against the real `scale-bot serve` process (issue #16,
// points 1 and 3): the service's RSS under floods of token-less large posts, and what a write
// lock held by another process does to deliveries, the event loop and the process.
// Usage: npm run build && node bench/hostile.js [--rounds 5] [--concurrency 16] [--mb 24] [--hold 12]
//
// The service runs as a child process (`node bin/scale-bot.js serve`, as shipped, worker on)
// against the fake GitLab (dist/fake-gitlab, in this process). RSS is read from the child's
// /proc/<pid>/status (VmRSS now, VmHWM the peak since start).
// Flood: each round posts `concurrency` bodies of `mb` MB at once with no secret token and waits
// for every answer; RSS after each round, and the peak.
// Held lock: another process (a better-sqlite3 connection here) holds the inbox's write lock
// (BEGIN IMMEDIATE) for `hold` seconds; meanwhile an issue is opened in the fake GitLab (its hook
// meets the lock), a valid delivery for it is posted every 250 ms and /healthz is timed every
// 100 ms; then the lock is released and the bench checks that the issue was handled. Reported:
// answers by status, slowest /healthz, whether the process lived.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const SECRET = 'bench-hostile-secret';
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    mb: { type: 'string', default: '24' },
    hold: { type: 'string', default: '12' },
  },
});
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const MB = Number(values.mb);
const HOLD_S = Number(values.hold);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** POST `body`; resolves with the status (and the answer's `status` field), or the error code when the server closed first. */
function post(port, path, body, headers) {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let kind = '';
          try {
            kind = JSON.parse(text).status ?? '';
          } catch {
            // Not a JSON answer: the status code alone says what happened.
          }
          resolve(`${res.statusCode}${kind ? ` ${kind}` : ''}`);
        });
      },
    );
    req.on('error', (err) => resolve(err.code ?? 'error'));
    req.end(body);
  });
}

async function start() {
  const { startFakeGitLab } = await import('../dist/fake-gitlab/server.js');
  const fake = await startFakeGitLab({ labels: ['segment::mm', 'region::amr'] });
  const data = mkdtempSync(join(tmpdir(), 'scale-bot-bench-hostile-'));
  const env = {
    PATH: process.env.PATH,
    GITLAB_URL: fake.url,
    GITLAB_TOKEN: fake.botToken,
    GITLAB_WEBHOOK_SECRET: SECRET,
    GITLAB_PROJECT: fake.project.path_with_namespace,
    SCALE_BOT_DATA: data,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
  };
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'scale-bot.js'), 'serve'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exit = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 300 && !/"url":"http/.test(out); i++) await sleep(100);
  const port = Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out)?.[1]);
  if (!port) throw new Error(`serve did not start:\n${out}`);
  fake.setWebhook({ url: `http://127.0.0.1:${port}/webhooks/gitlab`, token: SECRET });
  return { fake, child, port, data, exit, log: () => out };
}

async function flood(svc) {
  const body = Buffer.alloc(MB * 1024 * 1024, 0x61);
  await sleep(1000);
  const before = memory(svc.child.pid);
  console.log(`flood: ${ROUNDS} rounds of ${CONCURRENCY} concurrent token-less ${MB} MB posts`);
  console.log(`  before: RSS ${before.rss.toFixed(0)} MB (peak so far ${before.peak.toFixed(0)} MB)`);
  const after = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const t = performance.now();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        post(svc.port, '/webhooks/gitlab', body, { 'x-gitlab-event': 'Issue Hook' }),
      ),
    );
    const m = memory(svc.child.pid);
    after.push(m.rss);
    const counts = Object.entries(answers.reduce((a, s) => ({ ...a, [s]: (a[s] ?? 0) + 1 }), {}))
      .map(([s, n]) => `${n}× ${s}`)
      .join(', ');
    console.log(
      `  round ${r}: ${counts} in ${(performance.now() - t).toFixed(0)} ms; RSS ${m.rss.toFixed(0)} MB, peak ${m.peak.toFixed(0)} MB`,
    );
  }
  const end = memory(svc.child.pid);
  console.log(
    `  result: RSS ${before.rss.toFixed(0)} → median ${median(after).toFixed(0)} MB after a round, peak ${end.peak.toFixed(0)} MB (${(end.peak - before.rss).toFixed(0)} MB above the start)`,
  );
}

async function heldLock(svc) {
  const Database = (await import('better-sqlite3')).default;
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'gitlab', 'issue-hook-open.json'), 'utf8'));
  const holder = new Database(join(svc.data, 'inbox.sqlite'));
  holder.pragma('busy_timeout = 10000');
  console.log(
    `held lock: another connection holds the inbox's write lock for ${HOLD_S} s; an issue is opened (GitLab's own hook), then a delivery for it every 250 ms, /healthz every 100 ms`,
  );
  holder.exec('BEGIN IMMEDIATE');
  const lockedAt = Date.now();
  const issue = await svc.fake.as('alex.ae').createIssue({ title: 'Held lock', description: 'not a request' });
  fixture.project.id = svc.fake.project.id;
  fixture.project.path_with_namespace = svc.fake.project.path_with_namespace;
  fixture.object_attributes.project_id = svc.fake.project.id;
  fixture.object_attributes.iid = issue.iid;
  const body = Buffer.from(JSON.stringify(fixture));
  const answers = {};
  const healthz = [];
  // The holder's own event loop is free (better-sqlite3 holds the lock without blocking it).
  // At least one delivery and one probe even when opening the issue took the whole hold.
  const posting = (async () => {
    do {
      post(svc.port, '/webhooks/gitlab', body, {
        'x-gitlab-event': 'Issue Hook',
        'x-gitlab-token': SECRET,
        'idempotency-key': randomUUID(),
      }).then((s) => (answers[s] = (answers[s] ?? 0) + 1));
      await sleep(250);
    } while (Date.now() - lockedAt < HOLD_S * 1000);
  })();
  const probing = (async () => {
    do {
      const t = performance.now();
      await new Promise((r) =>
        request({ host: '127.0.0.1', port: svc.port, path: '/healthz' }, (res) => (res.resume(), res.on('end', r)))
          .on('error', r)
          .end(),
      );
      healthz.push(performance.now() - t);
      await sleep(100);
    } while (Date.now() - lockedAt < HOLD_S * 1000 + 2000);
  })();
  await posting;
  holder.exec('COMMIT');
  holder.close();
  await probing;
  await sleep(8000); // the last answers, then the catch-up
  const alive = svc.child.exitCode === null && svc.child.signalCode === null;
  const ready = await new Promise((r) =>
    request({ host: '127.0.0.1', port: svc.port, path: '/readyz' }, (res) => {
      let t = '';
      res.on('data', (d) => (t += d));
      res.on('end', () => r(`${res.statusCode} ${t}`));
    })
      .on('error', (e) => r(e.code))
      .end(),
  );
  healthz.sort((a, b) => a - b);
  console.log(
    `  deliveries: ${Object.entries(answers)
      .map(([s, n]) => `${n}× ${s}`)
      .join(', ')}`,
  );
  console.log(
    `  /healthz during the hold: ${healthz.length} probes, median ${median(healthz).toFixed(1)} ms, max ${healthz.at(-1).toFixed(1)} ms`,
  );
  console.log(`  process alive after: ${alive} (crashes: ${alive ? 0 : 1}); /readyz after: ${ready}`);
  const handled =
    svc.fake.botNotes(issue.iid).length > 0 &&
    svc.fake.issue(issue.iid).labels.some((l) => l.startsWith('engagement::'));
  console.log(
    `  the issue the deliveries named: ${handled ? 'handled by the bot after the lock was released' : 'NOT handled'} (labels: ${svc.fake.issue(issue.iid).labels.join(' ')})`,
  );
}

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
const svc = await start();
try {
  await flood(svc);
  await heldLock(svc);
} finally {
  svc.child.kill('SIGTERM');
  const end = await svc.exit;
  console.log(`SIGTERM: exit ${end.code ?? end.signal}`);
  await svc.fake.stop();
  rmSync(svc.data, { recursive: true, force: true });
}
