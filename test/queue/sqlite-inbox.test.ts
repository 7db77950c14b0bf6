import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimedJob, IssueRef, NewDelivery } from '../../src/queue/inbox.js';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LEASE = 60_000;

let dir: string;
let opened: SqliteInbox[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scale-bot-inbox-'));
  opened = [];
});

afterEach(() => {
  for (const inbox of opened) inbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(name = 'inbox.sqlite', policy?: Parameters<typeof SqliteInbox.open>[1]): SqliteInbox {
  const inbox = SqliteInbox.open(join(dir, name), policy);
  opened.push(inbox);
  return inbox;
}

function closeAll(): void {
  for (const inbox of opened.splice(0)) inbox.close();
}

const issue = (iid: number): IssueRef => ({ projectId: 7, iid });

function hook(key: string, ref: IssueRef | null, receivedAt = 0): NewDelivery {
  return { key, event: 'Issue Hook', uuid: `uuid-${key}`, body: JSON.stringify({ key }), issue: ref, receivedAt };
}

/** Claims with a fresh "worker" until nothing is due, completing each pass at once. */
function drain(inbox: SqliteInbox, now: number): number {
  let passes = 0;
  for (let job = inbox.claim(now, LEASE); job; job = inbox.claim(now, LEASE)) {
    inbox.complete(job, now);
    passes++;
  }
  return passes;
}

/**
 * A one-at-a-time worker in simulated time, 1 ms per tick: deliveries land, a finished pass
 * completes, then the worker claims whatever is due. Returns when each pass started.
 */
function simulate(inbox: SqliteInbox, deliveryTimes: number[], passMs: number, until: number): number[] {
  const starts: number[] = [];
  let inFlight: { job: ClaimedJob; endsAt: number } | null = null;
  for (let t = 0; t <= until; t++) {
    for (const [i, at] of deliveryTimes.entries()) if (at === t) inbox.accept(hook(`d${i}`, issue(1), t), t);
    if (inFlight && inFlight.endsAt <= t) {
      expect(inbox.complete(inFlight.job, t)).toBe(true);
      inFlight = null;
    }
    if (!inFlight) {
      const job = inbox.claim(t, LEASE);
      if (job) {
        starts.push(t);
        inFlight = { job, endsAt: t + passMs };
      }
    }
  }
  return starts;
}

describe('SqliteInbox: accept', () => {
  it('persists a delivery and schedules its issue quietMs later', () => {
    const inbox = open();
    const result = inbox.accept(hook('a', issue(1), 5), 10);
    expect(result).toEqual({ duplicate: false, deliveryId: 1 });
    expect(inbox.delivery(1)).toEqual({ event: 'Issue Hook', body: '{"key":"a"}', receivedAt: 5 });
    expect(inbox.list({})).toEqual([
      {
        id: 1,
        issue: issue(1),
        status: 'pending',
        attempts: 0,
        runAt: 260,
        firstPendingAt: 10,
        lastError: null,
        deliveries: 1,
        updatedAt: 10,
      },
    ]);
  });

  it('answers a duplicate key with the first delivery id and changes nothing', () => {
    const inbox = open();
    const first = inbox.accept(hook('a', issue(1)), 0);
    inbox.accept(hook('b', issue(2)), 0);
    expect(inbox.accept(hook('a', issue(1)), 100)).toEqual({ duplicate: true, deliveryId: first.deliveryId });
    const jobs = inbox.list({});
    expect(jobs).toHaveLength(2);
    expect(jobs.find((j) => j.issue.iid === 1)).toMatchObject({ deliveries: 1, runAt: 250, updatedAt: 0 });
  });

  it('links each delivery to the job it joined; one without an issue to none', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0); // job 1, runs at 250
    inbox.accept(hook('b', issue(2)), 0); // job 2, runs at 250
    inbox.accept(hook('c', issue(1)), 10); // joins job 1, pushed to 260
    inbox.accept(hook('d', null), 10);
    const job = inbox.claim(1_000, 60_000)!;
    expect(job).toMatchObject({ id: 2, issue: issue(2) });
    inbox.complete(job, 1_100);
    inbox.accept(hook('e', issue(2)), 1_200); // the next pass for issue 2 is a new job
    const rows = inbox['db'].prepare('SELECT key, job_id AS jobId FROM deliveries ORDER BY id').all();
    expect(rows).toEqual([
      { key: 'a', jobId: 1 },
      { key: 'b', jobId: 2 },
      { key: 'c', jobId: 1 },
      { key: 'd', jobId: null },
      { key: 'e', jobId: 3 },
    ]);
  });

  it('creates no job for a delivery without an issue, but keeps the delivery', () => {
    const inbox = open();
    const { deliveryId } = inbox.accept(hook('a', null), 0);
    expect(inbox.delivery(deliveryId)?.body).toBe('{"key":"a"}');
    expect(inbox.list({})).toEqual([]);
    expect(inbox.accept(hook('a', null), 1)).toEqual({ duplicate: true, deliveryId });
  });
});

describe('SqliteInbox: coalescing', () => {
  const burst = Array.from({ length: 20 }, (_, i) => i * 50);

  it('folds 20 deliveries in one second into at most 3 passes, the last after the last delivery', () => {
    const inbox = open();
    const starts = simulate(inbox, burst, 30, 5_000);
    expect(starts.length).toBeGreaterThanOrEqual(1);
    expect(starts.length).toBeLessThanOrEqual(3);
    expect(starts.at(-1)).toBeGreaterThan(950);
    expect(inbox.depth()).toMatchObject({ pending: 0, running: 0 });
  });

  it.each([
    { quietMs: 0, maxWaitMs: 0 },
    { quietMs: 40, maxWaitMs: 100 },
    { quietMs: 100, maxWaitMs: 300 },
  ])('sees every delivery in a pass that starts within passMs + maxWaitMs, with %o', (policy) => {
    const inbox = open('inbox.sqlite', policy);
    const starts = simulate(inbox, burst, 30, 5_000);
    for (const at of burst) expect(starts.some((s) => s >= at && s <= at + 30 + policy.maxWaitMs)).toBe(true);
  });

  it('caps the wait at maxWaitMs after the first pending delivery', () => {
    const inbox = open();
    for (let t = 0; t <= 900; t += 100) inbox.accept(hook(`k${t}`, issue(1), t), t);
    expect(inbox.nextRunAt()).toBe(1000);
  });

  it('runs exactly one more pass for deliveries that arrive while a pass runs', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0);
    const job = inbox.claim(250, LEASE);
    expect(job).not.toBeNull();
    inbox.accept(hook('b', issue(1)), 260);
    inbox.accept(hook('c', issue(1)), 270);
    expect(inbox.claim(275, LEASE)).toBeNull();
    expect(inbox.complete(job!, 280)).toBe(true);
    expect(inbox.list({})[0]).toMatchObject({ status: 'pending', runAt: 530, deliveries: 2, attempts: 0 });
    expect(inbox.claim(529, LEASE)).toBeNull();
    const again = inbox.claim(530, LEASE);
    expect(again).toMatchObject({ id: job!.id, attempts: 1 });
    inbox.complete(again!, 560);
    expect(drain(inbox, 1e12)).toBe(0);
    expect(inbox.list({})[0]).toMatchObject({ status: 'done', deliveries: 0 });
  });

  it('starts a new job row for an issue whose last job is done', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0);
    drain(inbox, 300);
    inbox.accept(hook('b', issue(1)), 400);
    expect(inbox.list({}).map((j) => [j.id, j.status])).toEqual([
      [2, 'pending'],
      [1, 'done'],
    ]);
  });
});

describe('SqliteInbox: claiming', () => {
  it('never claims one issue twice at once, but runs different issues side by side', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0);
    inbox.accept(hook('b', issue(2)), 0);
    const first = inbox.claim(250, LEASE);
    const second = inbox.claim(250, LEASE);
    expect([first?.issue.iid, second?.issue.iid].sort()).toEqual([1, 2]);
    inbox.accept(hook('c', issue(1)), 260);
    inbox.accept(hook('d', issue(2)), 260);
    expect(inbox.claim(10_000, LEASE)).toBeNull();
    expect(inbox.depth()).toEqual({ pending: 0, running: 2, done: 0, failed: 0 });
  });

  it('names the pending job waiting longest since its first delivery; running and done ones do not count', () => {
    const inbox = open();
    expect(inbox.oldestPending()).toBeNull();
    inbox.accept(hook('a', issue(1)), 100);
    inbox.accept(hook('b', issue(2)), 200);
    inbox.accept(hook('c', issue(3)), 300);
    expect(inbox.oldestPending()).toMatchObject({ issue: { iid: 1 }, firstPendingAt: 100 });
    const claimed = inbox.claim(1_000, LEASE);
    expect(claimed?.issue.iid).toBe(1);
    expect(inbox.oldestPending()).toMatchObject({ issue: { iid: 2 }, firstPendingAt: 200 });
    inbox.complete(claimed!, 1_000);
    drain(inbox, 2_000);
    expect(inbox.oldestPending()).toBeNull();
  });

  it('claims the job due first and nothing that is not yet due', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 100);
    inbox.accept(hook('b', issue(2)), 0);
    expect(inbox.claim(249, LEASE)).toBeNull();
    expect(inbox.claim(400, LEASE)?.issue.iid).toBe(2);
    expect(inbox.claim(400, LEASE)?.issue.iid).toBe(1);
  });

  it('ignores complete, retry, fail and release with a stale lease; an expired lease is claimable', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0);
    const stale = inbox.claim(250, 1_000)!;
    inbox.accept(hook('b', issue(1)), 500);
    expect(inbox.claim(1_250, LEASE)).toBeNull();
    const taken = inbox.claim(1_251, LEASE)!;
    expect(taken).toMatchObject({ id: stale.id, attempts: 2 });
    expect(taken.lease).not.toBe(stale.lease);

    expect(inbox.complete(stale, 1_300)).toBe(false);
    expect(inbox.retry(stale, 2_000, 'stale', 1_300)).toBe(false);
    expect(inbox.fail(stale, 'stale', 1_300)).toBe(false);
    expect(inbox.release(stale, 1_300)).toBe(false);
    expect(inbox.list({})[0]).toMatchObject({ status: 'running', attempts: 2, lastError: null });

    expect(inbox.complete(taken, 1_400)).toBe(true);
    expect(inbox.complete(taken, 1_500)).toBe(false);
    // The new pass saw the delivery that arrived during the abandoned one: no further pass is owed.
    expect(inbox.list({})[0]).toMatchObject({ status: 'done', attempts: 0, deliveries: 0, updatedAt: 1_400 });
  });

  it('release returns the job at once without counting the attempt', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0);
    const job = inbox.claim(250, LEASE)!;
    expect(inbox.release(job, 300)).toBe(true);
    expect(inbox.list({})[0]).toMatchObject({ status: 'pending', attempts: 0, runAt: 300 });
    expect(inbox.claim(300, LEASE)?.attempts).toBe(1);
  });
});

describe('SqliteInbox: retries and dead letters', () => {
  it('respects the retry time, keeps attempts, and does not let a delivery cut the backoff short', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0);
    const job = inbox.claim(250, LEASE)!;
    expect(inbox.retry(job, 5_000, 'Error: 502', 300)).toBe(true);
    expect(inbox.nextRunAt()).toBe(5_000);
    inbox.accept(hook('b', issue(1)), 400);
    expect(inbox.claim(4_999, LEASE)).toBeNull();
    const again = inbox.claim(5_000, LEASE)!;
    expect(again).toMatchObject({ attempts: 2, lastError: 'Error: 502', deliveries: 2 });
    inbox.complete(again, 5_100);
    expect(inbox.list({})[0]).toMatchObject({ status: 'done', attempts: 0, lastError: null });
  });

  it('dead-letters with the error, lists it, and re-queues it by id or all at once', () => {
    const inbox = open();
    for (const iid of [1, 2, 3]) inbox.accept(hook(`k${iid}`, issue(iid)), 0);
    for (let job = inbox.claim(250, LEASE); job; job = inbox.claim(250, LEASE)) {
      expect(inbox.fail(job, `Error: gone ${job.issue.iid}`, 300)).toBe(true);
    }
    const failed = inbox.list({ failed: true });
    expect(failed.map((j) => [j.status, j.lastError]).sort()).toEqual([
      ['failed', 'Error: gone 1'],
      ['failed', 'Error: gone 2'],
      ['failed', 'Error: gone 3'],
    ]);
    expect(inbox.nextRunAt()).toBeNull();
    expect(inbox.claim(1e12, LEASE)).toBeNull();

    const one = failed[0]!;
    expect(inbox.retryFailed(one.id, 400)).toBe(true);
    expect(inbox.retryFailed(one.id, 400)).toBe(false);
    expect(inbox.retryFailed(999, 400)).toBe(false);
    expect(inbox.list({ failed: true })).toHaveLength(2);
    expect(inbox.claim(400, LEASE)).toMatchObject({ id: one.id, attempts: 1 });
    expect(inbox.retryAllFailed(500)).toBe(2);
    expect(inbox.retryAllFailed(500)).toBe(0);
    expect(inbox.depth()).toEqual({ pending: 2, running: 1, done: 0, failed: 0 });
  });

  it('re-queues a dead-lettered issue on a new delivery, attempts reset, same job', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0);
    const job = inbox.claim(250, LEASE)!;
    inbox.fail(job, 'Error: boom', 300);
    inbox.accept(hook('b', issue(1)), 1_000);
    expect(inbox.list({})).toEqual([
      {
        id: job.id,
        issue: issue(1),
        status: 'pending',
        attempts: 0,
        runAt: 1_250,
        firstPendingAt: 1_000,
        lastError: 'Error: boom',
        deliveries: 2,
        updatedAt: 1_000,
      },
    ]);
  });

  it('re-queues instead of dead-lettering when deliveries arrived during the failing pass', () => {
    const inbox = open();
    inbox.accept(hook('a', issue(1)), 0);
    const job = inbox.claim(250, LEASE)!;
    inbox.accept(hook('b', issue(1)), 260);
    inbox.fail(job, 'Error: boom', 300);
    expect(inbox.list({})[0]).toMatchObject({ status: 'pending', attempts: 0, runAt: 550, lastError: 'Error: boom' });
  });
});

describe('SqliteInbox: durability', () => {
  it('keeps pending jobs and deliveries across close and reopen', () => {
    const first = open();
    for (let i = 0; i < 10; i++) first.accept(hook(`k${i}`, issue(i % 3)), i);
    closeAll();
    const again = open();
    expect(again.depth()).toEqual({ pending: 3, running: 0, done: 0, failed: 0 });
    expect(again.accept(hook('k4', issue(1)), 50)).toEqual({ duplicate: true, deliveryId: 5 });
    expect(again.delivery(10)?.body).toBe('{"key":"k9"}');
    expect(drain(again, 10_000)).toBe(3);
  });

  it('recovers a job left running by a crashed process without losing deliveries', () => {
    const first = open();
    first.accept(hook('a', issue(1)), 0);
    first.claim(250, LEASE);
    first.accept(hook('b', issue(1)), 260);
    closeAll();
    const again = open();
    expect(again.claim(300, LEASE)).toBeNull();
    expect(again.recover(300)).toBe(1);
    expect(again.list({})[0]).toMatchObject({ status: 'pending', attempts: 0, runAt: 300, deliveries: 2 });
    expect(again.claim(300, LEASE)).toMatchObject({ attempts: 1 });
    expect(again.recover(400)).toBe(1);
    expect(again.recover(400)).toBe(0);
  });

  it('keeps every accepted delivery when the process is SIGKILLed', async () => {
    const module = join(REPO_ROOT, 'dist', 'queue', 'sqlite-inbox.js');
    if (!existsSync(module)) throw new Error(`${module} is missing: run \`npm run build\` first (npm test does)`);
    const file = join(dir, 'killed.sqlite');
    const n = 500;
    const script = `
      const { SqliteInbox } = await import(process.env.INBOX_MODULE);
      const inbox = SqliteInbox.open(process.env.INBOX_FILE);
      for (let i = 0; i < ${n}; i++) {
        inbox.accept({ key: 'k' + i, event: 'Issue Hook', uuid: null, body: '{"i":' + i + '}', issue: { projectId: 7, iid: i % 7 }, receivedAt: i }, i);
      }
      inbox.claim(1e12, 60000);
      process.stdout.write('ready\\n');
      setInterval(() => {}, 60000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, INBOX_MODULE: pathToFileURL(module).href, INBOX_FILE: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      void exited.then(() => reject(new Error(`child exited before it was ready: ${stderr}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const inbox = SqliteInbox.open(file);
    opened.push(inbox);
    expect(inbox.recover(1e12)).toBe(1);
    const jobs = inbox.list({});
    expect(jobs).toHaveLength(7);
    expect(jobs.every((j) => j.status === 'pending')).toBe(true);
    expect(jobs.reduce((sum, j) => sum + j.deliveries, 0)).toBe(n);
    for (let i = 0; i < n; i++) {
      const { duplicate, deliveryId } = inbox.accept(hook(`k${i}`, issue(i % 7)), 1e12);
      expect(duplicate).toBe(true);
      expect(inbox.delivery(deliveryId)?.body).toBe(`{"i":${i}}`);
    }
  });
});

describe('SqliteInbox: open, schema and probes', () => {
  it('creates missing parent directories and works in memory', () => {
    const nested = SqliteInbox.open(join(dir, 'a', 'b', 'inbox.sqlite'));
    opened.push(nested);
    expect(existsSync(join(dir, 'a', 'b', 'inbox.sqlite'))).toBe(true);
    const memory = SqliteInbox.open(':memory:');
    opened.push(memory);
    expect(memory.accept(hook('a', issue(1)), 0).duplicate).toBe(false);
  });

  it('migrates to user_version 2 in WAL mode and refuses a newer schema', () => {
    open();
    closeAll();
    const raw = new Database(join(dir, 'inbox.sqlite'));
    expect(raw.pragma('user_version', { simple: true })).toBe(2);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => open()).toThrow(/schema version 99 is newer/);
  });

  it('rejects a policy whose cap is shorter than its quiet period', () => {
    expect(() => SqliteInbox.open(':memory:', { quietMs: 500, maxWaitMs: 100 })).toThrow(RangeError);
    expect(() => SqliteInbox.open(':memory:', { quietMs: -1 })).toThrow(RangeError);
  });

  it('reports depth, next run, deliveries, list order and limit, and liveness', () => {
    const inbox = open();
    expect(inbox.depth()).toEqual({ pending: 0, running: 0, done: 0, failed: 0 });
    expect(inbox.nextRunAt()).toBeNull();
    expect(inbox.delivery(1)).toBeNull();
    inbox.accept(hook('a', issue(1)), 0);
    inbox.accept(hook('b', issue(2)), 100);
    inbox.accept(hook('c', issue(3)), 200);
    expect(inbox.nextRunAt()).toBe(250);
    inbox.claim(250, LEASE);
    expect(inbox.nextRunAt()).toBe(350);
    expect(inbox.depth()).toEqual({ pending: 2, running: 1, done: 0, failed: 0 });
    expect(inbox.list({ limit: 2 }).map((j) => j.issue.iid)).toEqual([1, 3]);
    expect(inbox.ping()).toBe(true);
    closeAll();
    expect(inbox.ping()).toBe(false);
  });
});

type Op =
  | { kind: 'accept'; key: number; iid: number | null; dt: number }
  | { kind: 'claim'; leaseMs: number; dt: number }
  | { kind: 'complete' | 'fail' | 'release'; holder: number; dt: number }
  | { kind: 'retry'; holder: number; delay: number; dt: number }
  | { kind: 'recover' | 'retryAllFailed'; dt: number };

// Mostly small steps, so deliveries land while passes run; sometimes long enough for leases to expire.
const dt = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_500 }) },
);
// Counts back from the latest claim: mostly a live lease, sometimes a stale one.
const holder = fc.nat({ max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('accept' as const),
      key: fc.nat({ max: 15 }),
      iid: fc.option(fc.nat({ max: 2 }), { freq: 6 }),
      dt,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('claim' as const), leaseMs: fc.constantFrom(100, 1_000, 60_000), dt }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('complete' as const), holder, dt }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('fail' as const, 'release' as const), holder, dt }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('retry' as const), holder, delay: fc.nat({ max: 2_000 }), dt }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('recover' as const, 'retryAllFailed' as const), dt }) },
);

describe('SqliteInbox: property', () => {
  it('never runs an issue twice at once, never loses a delivery, never drops an owed pass', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80, size: 'max' }), (ops) => {
        const file = join(dir, `prop-${run++}.sqlite`);
        const inbox = SqliteInbox.open(file);
        const raw = new Database(file, { readonly: true });
        try {
          let now = 0;
          // Every claim made; `live` until its holder finishes it or `recover` takes it back.
          const held: Array<{ job: ClaimedJob; seq: number; leaseUntil: number; live: boolean }> = [];
          const ids = new Map<string, number>();
          // Per issue: the op that accepted its latest delivery, and the start of its latest pass that completed.
          const lastAccept = new Map<number, number>();
          const lastCleanPass = new Map<number, number>();
          for (const [seq, op] of ops.entries()) {
            now += op.dt;
            const pick = 'holder' in op ? held[held.length - 1 - (op.holder % Math.max(1, held.length))] : undefined;
            switch (op.kind) {
              case 'accept': {
                const key = `k${op.key}`;
                const result = inbox.accept(hook(key, op.iid === null ? null : issue(op.iid)), now);
                const known = ids.get(key);
                expect(result.duplicate).toBe(known !== undefined);
                if (known === undefined) {
                  ids.set(key, result.deliveryId);
                  if (op.iid !== null) lastAccept.set(op.iid, seq);
                } else expect(result.deliveryId).toBe(known);
                break;
              }
              case 'claim': {
                const job = inbox.claim(now, op.leaseMs);
                if (job) {
                  const rival = held.find((h) => h.live && h.leaseUntil >= now && h.job.issue.iid === job.issue.iid);
                  expect(rival, 'claimed an issue whose lease is still held').toBeUndefined();
                  held.push({ job, seq, leaseUntil: now + op.leaseMs, live: true });
                }
                break;
              }
              case 'complete':
                if (pick && inbox.complete(pick.job, now)) {
                  lastCleanPass.set(pick.job.issue.iid, pick.seq);
                  pick.live = false;
                }
                break;
              case 'fail':
                if (pick && inbox.fail(pick.job, 'Error: permanent', now)) pick.live = false;
                break;
              case 'release':
                if (pick && inbox.release(pick.job, now)) pick.live = false;
                break;
              case 'retry':
                if (pick && inbox.retry(pick.job, now + op.delay, 'Error: transient', now)) pick.live = false;
                break;
              case 'recover':
                inbox.recover(now);
                for (const h of held) h.live = false;
                break;
              case 'retryAllFailed':
                inbox.retryAllFailed(now);
                break;
            }

            const jobs = inbox.list({});
            for (const iid of [0, 1, 2]) {
              const openJobs = jobs.filter((j) => j.issue.iid === iid && j.status !== 'done');
              expect(openJobs.length).toBeLessThanOrEqual(1);
              const accepted = lastAccept.get(iid);
              if (accepted === undefined) expect(jobs.some((j) => j.issue.iid === iid)).toBe(false);
              // Nothing open means some pass that started after the latest delivery completed.
              else if (openJobs.length === 0) expect(lastCleanPass.get(iid) ?? -1).toBeGreaterThan(accepted);
            }
            expect(raw.prepare('SELECT COUNT(*) AS n FROM deliveries').get()).toEqual({ n: ids.size });
          }
          for (const iid of lastAccept.keys()) {
            const latest = inbox.list({}).find((j) => j.issue.iid === iid);
            expect(['pending', 'running', 'done', 'failed']).toContain(latest?.status);
          }
        } finally {
          raw.close();
          inbox.close();
        }
      }),
      { numRuns: 200 },
    );
    // 200 runs, each opening a SQLite file and replaying up to 80 operations: 7-15 s on a loaded
    // 2-core machine, past vitest's 5 s default. The runs and checks are what make the property.
  }, 60_000);
});

describe('SqliteInbox: acceptMany (group commit)', () => {
  it('writes a burst in one transaction with the same effects as accept, duplicates included', () => {
    const inbox = SqliteInbox.open(':memory:');
    const d = (key: string, iid: number) => ({
      key,
      event: 'Issue Hook',
      uuid: null,
      body: '{}',
      issue: { projectId: 1, iid },
      receivedAt: 0,
    });
    const results = inbox.acceptMany([d('a', 1), d('b', 1), d('a', 1), d('c', 2)], 0);
    expect(results.map((r) => r.duplicate)).toEqual([false, false, true, false]);
    expect(inbox.depth().pending).toBe(2);
    expect(inbox.list({}).find((j) => j.issue.iid === 1)!.deliveries).toBe(2);
    inbox.close();
  });
});
