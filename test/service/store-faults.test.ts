import {
  existsSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { InboxRefusedError, openServiceInbox } from '../../src/queue/inbox-identity.js';
import { startService, type RunningService, type ServiceOptions } from '../../src/service/service.js';
import { settingsFor } from '../e2e/stack.js';
import { exampleConfig } from '../helpers/config.js';

let fake: FakeGitLab;
let service: RunningService | null = null;
let dataDir: string;

beforeEach(async () => {
  fake = await startFakeGitLab({ labels: [] });
  dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-store-'));
});
afterEach(async () => {
  await service?.stop(500);
  service = null;
  await fake.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const inboxFile = () => join(dataDir, 'inbox.sqlite');

async function start(options: Partial<ServiceOptions> = {}): Promise<RunningService> {
  service = await startService(settingsFor(fake, dataDir), exampleConfig(), {
    server: true,
    worker: false,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  return service;
}

async function ready(): Promise<{ status: number; store: string }> {
  const res = await fetch(`${service!.url}/readyz`);
  const body = (await res.json()) as { checks: Record<string, string> };
  return { status: res.status, store: body.checks.store! };
}

async function queue(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await service!.inbox.accept(
      {
        key: `k${i}`,
        event: 'Issue Hook',
        uuid: null,
        body: '{}',
        issue: { projectId: fake.project.id, iid: i + 1 },
        receivedAt: Date.now(),
      },
      Date.now(),
    );
  }
}

describe('/readyz checks the real inbox (issue #16, point 6): 503 with the reason for each fault', () => {
  it('ready while the inbox is whole', async () => {
    await start();
    expect(await ready()).toEqual({ status: 200, store: 'ok' });
  });

  it('deleted', async () => {
    await start();
    unlinkSync(inboxFile());
    expect(await ready()).toEqual({ status: 503, store: expect.stringMatching(/^deleted: /) });
  });

  it('replaced by another file', async () => {
    await start();
    renameSync(inboxFile(), `${inboxFile()}.old`);
    writeFileSync(inboxFile(), 'SQLite format 3\0');
    expect(await ready()).toEqual({ status: 503, store: expect.stringMatching(/^replaced: /) });
  });

  it('truncated', async () => {
    await start();
    truncateSync(inboxFile(), 0);
    expect(await ready()).toEqual({ status: 503, store: expect.stringMatching(/^truncated: /) });
  });

  it('corrupted', async () => {
    await start();
    await queue(50);
    const { size } = statSync(inboxFile());
    // Checkpoint so the pages live in the file, then scribble over every page after the first.
    new Database(inboxFile()).pragma('wal_checkpoint(TRUNCATE)');
    const fd = openSync(inboxFile(), 'r+');
    for (let at = 4096; at < Math.max(size, 8192); at += 4096) writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, at + 100);
    closeSync(fd);
    expect(await ready()).toEqual({ status: 503, store: expect.stringMatching(/^corrupt: /) });
  });

  it('locked by another process (writes refused)', async () => {
    await start();
    const holder = new Database(inboxFile());
    holder.exec('BEGIN IMMEDIATE');
    try {
      expect(await ready()).toEqual({ status: 503, store: expect.stringMatching(/^not writable: SQLITE_BUSY/) });
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('disk full (less free space than the minimum)', async () => {
    await start({ inboxHealth: { minFreeBytes: Number.MAX_SAFE_INTEGER } });
    expect(await ready()).toEqual({ status: 503, store: expect.stringMatching(/^disk full: \d+ bytes free/) });
  });
});

describe('a lost inbox is never silently recreated (issue #16, point 7)', () => {
  it('no acknowledged delivery is lost after the inbox is deleted: the service keeps a copy, the restart refuses the empty inbox and names it', async () => {
    await start();
    await queue(10);
    unlinkSync(inboxFile());
    // Deliveries after the deletion are refused, not acknowledged into a file nobody will open again.
    const res = await fetch(`${service!.url}/webhooks/gitlab`, {
      method: 'POST',
      headers: { 'x-gitlab-token': 'demo-secret', 'x-gitlab-event': 'Issue Hook' },
      body: '{}',
    });
    expect(res.status).not.toBe(202);
    await service!.stop(500);
    service = null;
    const copies = readdirSync(dataDir).filter((f) => f.startsWith('inbox.sqlite.rescued-'));
    expect(copies).toHaveLength(1);
    await expect(start()).rejects.toThrow(InboxRefusedError);
    await expect(start()).rejects.toThrow(new RegExp(`missing or was recreated empty.*${copies[0]}.*--fresh-inbox`));
    expect(existsSync(inboxFile())).toBe(false);
    renameSync(join(dataDir, copies[0]!), inboxFile());
    await start();
    expect((await service!.inbox.depth()).pending).toBe(10);
  });

  it('refuses an inbox recreated empty, and another inbox than the one created here; --fresh-inbox sets it aside', () => {
    openServiceInbox(dataDir).close();
    unlinkSync(inboxFile());
    writeFileSync(inboxFile(), '');
    expect(() => openServiceInbox(dataDir)).toThrow(/missing or was recreated empty/);
    unlinkSync(inboxFile());
    new Database(inboxFile()).close();
    const other = mkdtempSync(join(tmpdir(), 'scale-bot-other-'));
    try {
      openServiceInbox(other).close();
      renameSync(join(other, 'inbox.sqlite'), inboxFile());
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    expect(() => openServiceInbox(dataDir)).toThrow(/is not the one created in this data directory/);
    const fresh = openServiceInbox(dataDir, { fresh: true });
    expect(fresh.depth()).toEqual({ pending: 0, running: 0, done: 0, failed: 0 });
    fresh.close();
    expect(readdirSync(dataDir).some((f) => f.startsWith('inbox.sqlite.set-aside-'))).toBe(true);
    openServiceInbox(dataDir).close();
  });

  it('adopts an inbox from before the marker once, then expects it', () => {
    new Database(inboxFile()).close();
    openServiceInbox(dataDir).close();
    expect(existsSync(join(dataDir, 'inbox.id'))).toBe(true);
    openServiceInbox(dataDir).close();
  });

  it('a data directory it cannot use is a clear message, not a raw SqliteError stack', () => {
    const notADir = join(dataDir, 'file');
    writeFileSync(notADir, 'x');
    expect(() => openServiceInbox(notADir)).toThrow(
      /^cannot open the inbox at .*Check that SCALE_BOT_DATA is a writable directory/,
    );
  });
});
