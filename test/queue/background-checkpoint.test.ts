import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/queue/group-commit.js';
import type { NewDelivery } from '../../src/queue/inbox.js';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';

/**
 * The webhook server's connection checkpoints its WAL from a thread of its own, off the event loop,
 * and the WAL stays bounded under sustained writes (a background PASSIVE thread alone let it grow
 * past 1 GB in the ingest bench).
 */

let dir: string;
let inbox: SqliteInbox | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scale-bot-checkpoint-'));
});
afterEach(() => {
  inbox?.close();
  inbox = null;
  rmSync(dir, { recursive: true, force: true });
});

const BODY = Buffer.from(JSON.stringify({ object_kind: 'issue', description: 'x'.repeat(3_200) }));
const delivery = (i: number): NewDelivery => ({
  key: `k${i}`,
  event: 'Issue Hook',
  uuid: null,
  body: BODY,
  issue: { projectId: 1, iid: (i % 100) + 1 },
  receivedAt: i,
});
const walBytes = (file: string) => {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
};
const until = async (ok: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('SqliteInbox: background checkpoints', () => {
  it('keeps the WAL under its bound through sustained group commits, and loses nothing', async () => {
    const file = join(dir, 'inbox.sqlite');
    inbox = SqliteInbox.open(file);
    const limit = 2 * 1024 * 1024;
    inbox.checkpointInBackground({ walLimitBytes: limit, intervalMs: 10 });
    await until(() => inbox!.backgroundStats().passive > 0);
    const commits = new GroupCommit(inbox, () => 0);
    // ~4,000 deliveries of 3 KB in bursts of 10 (about 30 MB of WAL frames), checked after each burst.
    let maxWal = 0;
    const n = 4_000;
    for (let i = 0; i < n; i += 10) {
      const burst = Array.from({ length: 10 }, (_, j) => commits.accept(delivery(i + j)));
      expect((await Promise.all(burst)).every((r) => !r.duplicate)).toBe(true);
      maxWal = Math.max(maxWal, walBytes(file));
    }
    const stats = inbox.backgroundStats();
    expect(stats.error).toBeNull();
    expect(stats.running).toBe(true);
    expect(stats.restarts).toBeGreaterThan(0);
    expect(stats.restarts).toBeGreaterThan(1);
    // The bound plus what is written during one checkpoint, at this test's unthrottled rate (tens
    // of MB/s); the deliveries written come to over 30 MB of WAL frames.
    expect(maxWal).toBeLessThan(6 * limit);
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM deliveries').get()).toEqual({ n });
    db.close();
    expect(inbox.delivery(1)?.body).toBe(BODY.toString('utf8'));
  });

  it('holds group commits while the WAL is restarted, then writes them', async () => {
    const file = join(dir, 'inbox.sqlite');
    inbox = SqliteInbox.open(file);
    inbox.checkpointInBackground({ walLimitBytes: 64 * 1024, intervalMs: 5 });
    await until(() => inbox!.backgroundStats().passive > 0);
    const commits = new GroupCommit(inbox, () => 0);
    let held = 0;
    for (let i = 0; i < 600; i++) {
      if (inbox.whenWritable() !== null) held++;
      expect((await commits.accept(delivery(i))).duplicate).toBe(false);
    }
    await until(() => inbox!.backgroundStats().restarts > 0);
    const stats = inbox.backgroundStats();
    expect(stats.error).toBeNull();
    expect(stats.maxPauseMs).toBeGreaterThan(0);
    expect(held).toBeGreaterThanOrEqual(0); // timing-dependent: the point is that every accept resolved
    expect(inbox.depth().pending).toBe(100);
    expect(inbox.list({}).reduce((n, j) => n + j.deliveries, 0)).toBe(600);
  });

  it('falls back to in-connection auto-checkpoints if the thread goes away', async () => {
    const file = join(dir, 'inbox.sqlite');
    inbox = SqliteInbox.open(file);
    inbox.checkpointInBackground({ walLimitBytes: 1024 * 1024, intervalMs: 10 });
    const db = (inbox as unknown as { db: Database.Database }).db;
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1024); // 4 × 256 pages
    expect(db.pragma('journal_size_limit', { simple: true })).toBe(1024 * 1024);
    await until(() => inbox!.backgroundStats().passive > 0);
    await (inbox as unknown as { checkpointer: { terminate(): Promise<number> } }).checkpointer.terminate();
    await until(() => !inbox!.backgroundStats().running);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(inbox.whenWritable()).toBeNull();
    expect(inbox.accept(delivery(1), 0).duplicate).toBe(false);
  });

  it('is a no-op in memory', () => {
    inbox = SqliteInbox.open(':memory:');
    inbox.checkpointInBackground();
    expect(inbox.backgroundStats().running).toBe(false);
  });
});
