import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** What a process does with the data directory; each role is held by one process at a time. */
export type InstanceRole = 'server' | 'worker';

export class InstanceLockedError extends Error {
  constructor(
    readonly role: InstanceRole,
    readonly dataDir: string,
  ) {
    super(
      `another scale-bot ${role === 'server' ? 'webhook server (serve)' : 'worker (serve or worker)'} is already running on the data directory ${dataDir}; ` +
        'one process per role per SCALE_BOT_DATA: stop the other one, or give this one its own SCALE_BOT_DATA',
    );
    this.name = 'InstanceLockedError';
  }
}

export interface InstanceLock {
  release: () => void;
}

/**
 * Holds `<dataDir>/<role>.lock` for the life of the process: an SQLite database kept inside an
 * exclusive transaction, so the lock is the operating system's file lock. It goes with the process,
 * even one killed with SIGKILL, so a restart never finds a stale lock; a second process asking for
 * the same role is refused at once. (Like SQLite itself, this needs a local file system, not NFS.)
 */
export function acquireInstanceLock(dataDir: string, role: InstanceRole): InstanceLock {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, `${role}.lock`), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new InstanceLockedError(role, dataDir);
    throw err;
  }
  return { release: () => db.close() };
}
