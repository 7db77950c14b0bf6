import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service/service.js';
import { readSettings } from '../../src/service/settings.js';
import { useServerOnlyService } from '../helpers/server-only-service.js';

/**
 * Issue #16, point 8: SCALE_BOT_DURABILITY really sets SQLite's `synchronous` on the service's
 * inbox connection: NORMAL (1) survives a killed process, FULL (2) a power cut too. The pragma
 * belongs to a connection, so only the service's own connection can say (read through its private
 * handle here). bench/ingest.js --durability measures what each costs.
 */

const service = useServerOnlyService('scale-bot-durability-');

/** The service's own inbox connection (the pragma belongs to a connection). */
const inboxDb = (running: RunningService) => (running.inbox as unknown as { db: Database.Database }).db;

function startWith(durability: string | undefined): Promise<RunningService> {
  return service.start((fake, dataDir) =>
    readSettings({
      GITLAB_URL: fake.url,
      GITLAB_TOKEN: fake.botToken,
      GITLAB_WEBHOOK_SECRET: 'secret',
      GITLAB_PROJECT: fake.project.path_with_namespace,
      SCALE_BOT_DATA: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      ...(durability === undefined ? {} : { SCALE_BOT_DURABILITY: durability }),
    }),
  );
}

describe('SCALE_BOT_DURABILITY', () => {
  it.each([
    [undefined, 1],
    ['process', 1],
    ['power', 2],
  ])('%s → PRAGMA synchronous = %i on the inbox the service writes', async (durability, expected) => {
    expect(inboxDb(await startWith(durability)).pragma('synchronous', { simple: true })).toBe(expected);
  });

  it('keeps WAL mode either way', async () => {
    expect(inboxDb(await startWith('power')).pragma('journal_mode', { simple: true })).toBe('wal');
  });
});
