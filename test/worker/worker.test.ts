import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CrmError } from '../../src/crm/crm-sink.js';
import { GitLabHttpError, UnexpectedResponseError, UnknownUserError } from '../../src/gitlab/errors.js';
import type { IssueRef } from '../../src/queue/inbox.js';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';

const logger = pino({ level: 'silent' });
const options: WorkerOptions = { concurrency: 4, leaseMs: 10_000, maxAttempts: 3, backoffMs: () => 20, idlePollMs: 20 };
let inbox: SqliteInbox;
let worker: Worker | null = null;

afterEach(async () => {
  await worker?.stop(1000);
  worker = null;
  inbox.close();
});

function deliver(iid: number, key = crypto.randomUUID()) {
  return inbox.accept(
    { key, event: 'Issue Hook', uuid: null, body: '{}', issue: { projectId: 1, iid }, receivedAt: Date.now() },
    Date.now(),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Worker', () => {
  it('collapses 20 edits of one issue within a second into at most 3 passes, the last after the last edit', async () => {
    inbox = SqliteInbox.open(':memory:', { quietMs: 250, maxWaitMs: 1000 });
    const passes: number[] = [];
    worker = new Worker(
      inbox,
      async () => {
        passes.push(Date.now());
        await sleep(30);
      },
      options,
      logger,
      null,
    );
    worker.start();
    let last = 0;
    for (let i = 0; i < 20; i++) {
      deliver(7);
      last = Date.now();
      worker.wake();
      await sleep(50);
    }
    await worker.idle();
    expect(passes.length).toBeGreaterThanOrEqual(1);
    expect(passes.length).toBeLessThanOrEqual(3);
    expect(passes[passes.length - 1]!).toBeGreaterThanOrEqual(last);
  });

  it('never runs two passes of one issue at once, but runs different issues concurrently', async () => {
    inbox = SqliteInbox.open(':memory:', { quietMs: 0, maxWaitMs: 0 });
    const running = new Map<number, number>();
    let maxPerIssue = 0;
    let maxTotal = 0;
    worker = new Worker(
      inbox,
      async (issue: IssueRef) => {
        running.set(issue.iid, (running.get(issue.iid) ?? 0) + 1);
        maxPerIssue = Math.max(maxPerIssue, running.get(issue.iid)!);
        maxTotal = Math.max(
          maxTotal,
          [...running.values()].reduce((a, b) => a + b, 0),
        );
        await sleep(40);
        running.set(issue.iid, running.get(issue.iid)! - 1);
      },
      options,
      logger,
      null,
    );
    worker.start();
    for (let round = 0; round < 5; round++) {
      for (const iid of [1, 2, 3]) deliver(iid);
      worker.wake();
      await sleep(10);
    }
    await worker.idle();
    expect(maxPerIssue).toBe(1);
    expect(maxTotal).toBeGreaterThan(1);
  });

  it('retries transient failures, then succeeds', async () => {
    inbox = SqliteInbox.open(':memory:', { quietMs: 0, maxWaitMs: 0 });
    let calls = 0;
    worker = new Worker(
      inbox,
      async () => {
        calls++;
        if (calls < 3) throw new GitLabHttpError('GET x: 503', 503, 'GET', 'x', null, '');
      },
      options,
      logger,
      null,
    );
    worker.start();
    deliver(5);
    worker.wake();
    await worker.idle();
    expect(calls).toBe(3);
    expect(inbox.list({ failed: true })).toEqual([]);
    expect(inbox.depth().done).toBe(1);
  });

  it('dead-letters permanent errors at once and transient ones after the last attempt', async () => {
    inbox = SqliteInbox.open(':memory:', { quietMs: 0, maxWaitMs: 0 });
    const errors: Record<number, Error> = {
      1: new GitLabHttpError('PUT x: 403 Forbidden', 403, 'PUT', 'x', null, ''),
      2: new GitLabHttpError('GET x: 500', 500, 'GET', 'x', null, ''),
      3: new UnexpectedResponseError('GET x', 'id: expected number'),
      4: new UnknownUserError('nobody'),
      // The CRM sink retries a 503 itself; what reaches the worker is final.
      5: new CrmError('CRM answered 503', 503),
    };
    const calls = new Map<number, number>();
    worker = new Worker(
      inbox,
      async (issue: IssueRef) => {
        calls.set(issue.iid, (calls.get(issue.iid) ?? 0) + 1);
        throw errors[issue.iid]!;
      },
      options,
      logger,
      null,
    );
    worker.start();
    for (const iid of [1, 2, 3, 4, 5]) deliver(iid);
    worker.wake();
    await worker.idle();
    expect([...calls.entries()].sort()).toEqual([
      [1, 1],
      [2, options.maxAttempts],
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
    const failed = inbox.list({ failed: true });
    expect(failed.map((j) => j.issue.iid).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(failed.find((j) => j.issue.iid === 1)!.lastError).toContain('403');
  });

  it('stop() lets in-flight passes finish within the grace period, and returns slower ones to the queue', async () => {
    inbox = SqliteInbox.open(':memory:', { quietMs: 0, maxWaitMs: 0 });
    let finished = 0;
    worker = new Worker(
      inbox,
      async (issue: IssueRef) => {
        await sleep(issue.iid === 1 ? 50 : 2000);
        finished++;
      },
      options,
      logger,
      null,
    );
    worker.start();
    deliver(1);
    deliver(2);
    worker.wake();
    await sleep(20);
    await worker.stop(300);
    worker = null;
    expect(finished).toBe(1);
    expect(inbox.depth().pending).toBe(1);
    expect(inbox.depth().running).toBe(0);
  });

  it('on start, resumes jobs a killed process left running', async () => {
    inbox = SqliteInbox.open(':memory:', { quietMs: 0, maxWaitMs: 0 });
    deliver(9);
    expect(inbox.claim(Date.now(), 60_000)).not.toBeNull(); // a worker that then "dies"
    const seen: number[] = [];
    worker = new Worker(
      inbox,
      async (issue: IssueRef) => {
        seen.push(issue.iid);
      },
      options,
      logger,
      null,
    );
    worker.start();
    await worker.idle();
    expect(seen).toEqual([9]);
  });
});

describe('Worker: a store that refuses (issue #16, point 1)', () => {
  it('another process holding the write lock never ends the process: logged, shown, retried, then the job runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scale-bot-worker-lock-'));
    const file = join(dir, 'inbox.sqlite');
    try {
      inbox = SqliteInbox.open(file, { quietMs: 0, maxWaitMs: 0 }, { busyTimeoutMs: 0 });
      deliver(5);
      const holder = new Database(file);
      holder.exec('BEGIN IMMEDIATE');
      const lines: Array<Record<string, unknown>> = [];
      const log = pino(
        { level: 'info' },
        { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
      );
      const passes: number[] = [];
      worker = new Worker(inbox, async (issue) => void passes.push(issue.iid), options, log, null);
      worker.start();
      await sleep(400);
      expect(worker.storeProblem()).toMatchObject({ error: expect.stringMatching(/locked/) });
      expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: 'inbox unusable; will retry' }));
      expect(passes).toEqual([]);
      holder.exec('ROLLBACK');
      holder.close();
      for (let i = 0; i < 100 && passes.length === 0; i++) await sleep(50);
      expect(passes).toEqual([5]);
      expect(worker.storeProblem()).toBeNull();
    } finally {
      await worker?.stop(1000);
      worker = null;
      inbox.close();
      inbox = SqliteInbox.open(':memory:');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
