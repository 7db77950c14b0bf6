import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import type { SqliteInbox } from '../../src/queue/sqlite-inbox.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { readSettings } from '../../src/service/settings.js';
import { exampleConfig } from '../helpers/config.js';

/**
 * Issue #16, point 8: SCALE_BOT_DURABILITY really sets SQLite's `synchronous` on the service's
 * inbox connection: NORMAL (1) survives a killed process, FULL (2) a power cut too. The pragma
 * belongs to a connection, so only the service's own connection can say (read through its private
 * handle here). bench/ingest.js --durability measures what each costs.
 */

let fake: FakeGitLab | null = null;
let service: RunningService | null = null;
let dataDir: string | null = null;

afterEach(async () => {
  await service?.stop(500);
  service = null;
  await fake?.stop();
  fake = null;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
});

async function synchronousFor(durability: string | undefined): Promise<number> {
  fake = await startFakeGitLab({ labels: [] });
  dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-durability-'));
  const env = {
    GITLAB_URL: fake.url,
    GITLAB_TOKEN: fake.botToken,
    GITLAB_WEBHOOK_SECRET: 'secret',
    GITLAB_PROJECT: fake.project.path_with_namespace,
    SCALE_BOT_DATA: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    ...(durability === undefined ? {} : { SCALE_BOT_DURABILITY: durability }),
  };
  service = await startService(readSettings(env), exampleConfig(), {
    server: true,
    worker: false,
    logger: pino({ level: 'silent' }),
  });
  const db = (service.inbox as unknown as { db: Database.Database }).db;
  return db.pragma('synchronous', { simple: true }) as number;
}

describe('SCALE_BOT_DURABILITY', () => {
  it.each([
    [undefined, 1],
    ['process', 1],
    ['power', 2],
  ])('%s → PRAGMA synchronous = %i on the inbox the service writes', async (durability, expected) => {
    expect(await synchronousFor(durability)).toBe(expected);
  });

  it('keeps WAL mode either way', async () => {
    await synchronousFor('power');
    const db = (service!.inbox as SqliteInbox as unknown as { db: Database.Database }).db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});
