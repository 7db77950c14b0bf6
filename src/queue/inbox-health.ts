import { openSync, readSync, closeSync, statSync, statfsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';

const SQLITE_HEADER = 'SQLite format 3\0';

/**
 * Whether the path still names the file the inbox opened, whole: null when it does, else why not.
 * `header` also reads the first 16 bytes; without it, one stat (cheap enough for every commit).
 */
export function inboxFileProblem(inbox: { file: string; inode: number | null }, header = true): string | null {
  if (inbox.inode === null) return null;
  let stat: { ino: number; size: number };
  try {
    stat = statSync(inbox.file);
  } catch {
    return `deleted: there is no file at ${inbox.file} any more`;
  }
  if (stat.ino !== inbox.inode) return `replaced: ${inbox.file} is not the file opened at start`;
  if (stat.size === 0) return `truncated: ${inbox.file} is empty`;
  if (!header) return null;
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(inbox.file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return head.toString('latin1') === SQLITE_HEADER
    ? null
    : `truncated or overwritten: ${inbox.file} no longer starts with an SQLite header`;
}

/** Free bytes on the data directory's file system, for unprivileged users. */
export function freeBytes(path: string): number {
  const s = statfsSync(dirname(path));
  return s.bavail * s.bsize;
}

/**
 * SQLite's `PRAGMA quick_check` on its own read-only connection in a thread: it reads every page,
 * too long for the event loop once the inbox is large. Resolves null when the file passes.
 */
export function quickCheck(file: string): Promise<string | null> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    let result;
    try {
      const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
      try { result = db.pragma('quick_check').map((r) => r.quick_check).join('; '); } finally { db.close(); }
    } catch (err) { result = String(err && err.message || err); }
    parentPort.postMessage(result);`;
  return new Promise((resolve) => {
    const worker = new Worker(code, { eval: true, workerData: { driver, file } });
    worker.once('message', (result: string) => resolve(result === 'ok' ? null : `corrupt: ${result}`));
    worker.once('error', (err) => resolve(`corrupt: ${err.message}`));
    worker.unref();
  });
}

export interface InboxHealthOptions {
  /** Less free space than this on the data directory's file system is reported as a full disk. */
  minFreeBytes: number;
  /** How long a passed integrity check is trusted before it is run again. */
  integrityEveryMs: number;
}

export const DEFAULT_INBOX_HEALTH: InboxHealthOptions = { minFreeBytes: 64 * 1024 * 1024, integrityEveryMs: 60_000 };

/** What the check reads of the SQLite inbox (its file, the inode opened at start, a trial write). */
export interface CheckedInbox {
  file: string;
  inode: number | null;
  /** Null when a write goes through now, else why not. */
  probeWrite(now: number): string | null;
}

/**
 * The readiness check of the real inbox: the file is the one opened at start and whole, there is
 * room on the disk, it takes a write now, and it passes a quick integrity check. Null when all
 * hold, else the first reason it does not.
 */
export class InboxHealth {
  private lastIntegrity: { at: number; problem: string | null } | null = null;

  constructor(
    private readonly inbox: CheckedInbox,
    private readonly options: InboxHealthOptions = DEFAULT_INBOX_HEALTH,
  ) {}

  async problem(now: number): Promise<string | null> {
    const file = inboxFileProblem(this.inbox);
    if (file) return file;
    if (this.inbox.inode !== null) {
      const free = freeBytes(this.inbox.file);
      if (free < this.options.minFreeBytes) return `disk full: ${free} bytes free on the data directory's file system`;
    }
    const write = this.inbox.probeWrite(now);
    if (write) return `not writable: ${write}`;
    if (this.inbox.inode === null) return null;
    if (
      this.lastIntegrity === null ||
      this.lastIntegrity.problem !== null ||
      now - this.lastIntegrity.at > this.options.integrityEveryMs
    ) {
      this.lastIntegrity = { at: now, problem: await quickCheck(this.inbox.file) };
    }
    return this.lastIntegrity.problem;
  }
}
