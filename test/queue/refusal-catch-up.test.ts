import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';
import { RefusalCatchUp } from '../../src/queue/refusal-catch-up.js';

let catchUp: RefusalCatchUp | null = null;
afterEach(() => catchUp?.stop());

describe('RefusalCatchUp', () => {
  it('records its last sweep: when, the window it covered and how many issues it queued', async () => {
    const inbox = SqliteInbox.open(':memory:');
    let asked: string | null = null;
    let queued = 0;
    catchUp = new RefusalCatchUp({
      inbox,
      updatedAfter: async (iso) => {
        asked = iso;
        return [{ iid: 3 }, { iid: 5 }];
      },
      projectId: () => 42,
      now: () => 2_000_000,
      logger: pino({ level: 'silent' }),
      onQueued: () => queued++,
      retryMs: 1,
      marginMs: 60_000,
    });
    expect(catchUp.lastSweep()).toBeNull();
    catchUp.refused(1_000_000);
    while (catchUp.lastSweep() === null) await new Promise((r) => setTimeout(r, 5));
    expect(catchUp.lastSweep()).toEqual({ at: 2_000_000, since: 1_000_000, issues: 2 });
    expect(asked).toBe(new Date(940_000).toISOString());
    expect(queued).toBe(1);
    expect(inbox.depth().pending).toBe(2);
    expect(catchUp.pendingSince()).toBeNull();
    inbox.close();
  });
});
