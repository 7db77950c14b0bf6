import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoalescePolicy } from './inbox.js';
import { SqliteInbox, type StoreOptions } from './sqlite-inbox.js';

/** The inbox could not be opened as the one this data directory expects; the message says what to do. */
export class InboxRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InboxRefusedError';
  }
}

export interface ServiceInboxOptions {
  /** Start with an empty inbox, setting aside whatever file is there. */
  fresh?: boolean;
  coalesce?: Partial<CoalescePolicy>;
  store?: Partial<StoreOptions>;
}

export const INBOX_FILE = 'inbox.sqlite';
/** Beside the inbox: the identity of the inbox created in this directory, to recognise it later. */
const IDENTITY_FILE = 'inbox.id';

/**
 * Opens the service's inbox in `dataDir`, never silently replacing a lost one with an empty file.
 * At creation the inbox gets an identity (a marker row) that is also written beside it; at every
 * start the two must agree. A missing, emptied or different inbox where one was created before is
 * refused (its acknowledged deliveries would be lost) unless `fresh` is set. An inbox from before
 * the marker existed is adopted once.
 */
export function openServiceInbox(dataDir: string, options: ServiceInboxOptions = {}): SqliteInbox {
  const file = join(dataDir, INBOX_FILE);
  const idFile = join(dataDir, IDENTITY_FILE);
  try {
    mkdirSync(dataDir, { recursive: true });
    if (options.fresh) setAside(dataDir);
    const expected = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() || null : null;
    const present = existsSync(file) && statSync(file).size > 0;
    if (!present && expected !== null) throw new InboxRefusedError(missingMessage(dataDir, expected));
    const inbox = SqliteInbox.open(file, options.coalesce, options.store);
    try {
      return adopt(inbox, expected, idFile);
    } catch (err) {
      inbox.close();
      throw err;
    }
  } catch (err) {
    if (err instanceof InboxRefusedError) throw err;
    throw new InboxRefusedError(
      `cannot open the inbox at ${file}: ${(err as Error).message}. Check that SCALE_BOT_DATA is a writable directory for this user and that the file is a scale-bot inbox.`,
    );
  }
}

/** Checks the opened inbox against the identity expected; gives a new or older inbox its identity. */
function adopt(inbox: SqliteInbox, expected: string | null, idFile: string): SqliteInbox {
  const id = inbox.identity();
  if (id !== null && expected !== null && id !== expected) {
    throw new InboxRefusedError(
      `the inbox at ${inbox.file} is not the one created in this data directory (identity ${id}, expected ${expected}): ` +
        'restore the right file, or start with --fresh-inbox to set this one aside and begin empty.',
    );
  }
  if (id === null && expected !== null)
    throw new InboxRefusedError(missingMessage(idFile.slice(0, -IDENTITY_FILE.length - 1), expected));
  const identity = id ?? randomUUID();
  if (id === null) inbox.setIdentity(identity);
  if (expected === null) writeFileSync(idFile, `${identity}\n`);
  return inbox;
}

function missingMessage(dataDir: string, expected: string): string {
  const rescued = readdirSync(dataDir).filter((f) => f.startsWith(`${INBOX_FILE}.rescued-`));
  return (
    `the inbox ${join(dataDir, INBOX_FILE)} is missing or was recreated empty, but this data directory had one (identity ${expected}); ` +
    'starting empty would lose the deliveries it had acknowledged. ' +
    (rescued.length > 0
      ? `A copy the service rescued is at ${join(dataDir, rescued.sort().at(-1)!)}: move it to ${INBOX_FILE}. `
      : 'Restore it from a backup, ') +
    'or start with --fresh-inbox to begin with an empty inbox.'
  );
}

/** Moves the inbox files and the identity aside (never deletes them). */
function setAside(dataDir: string): void {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const name of [INBOX_FILE, `${INBOX_FILE}-wal`, `${INBOX_FILE}-shm`, IDENTITY_FILE]) {
    const path = join(dataDir, name);
    if (existsSync(path)) renameSync(path, `${path}.set-aside-${stamp}`);
  }
}
