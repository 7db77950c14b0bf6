import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';
import { RefusalCatchUp } from '../../src/queue/refusal-catch-up.js';

let catchUp: RefusalCatchUp | null = null;
let inbox: SqliteInbox | null = null;
afterEach(() => {
  catchUp?.stop();
  inbox?.close();
});

/** A catch-up at time 2,000,000 over an in-memory inbox, with the times GitLab is asked for. */
function catchUpOf(issues: Array<{ iid: number }>, marginMs?: number) {
  inbox = SqliteInbox.open(':memory:');
  const asked: string[] = [];
  const counts = { queued: 0 };
  catchUp = new RefusalCatchUp({
    inbox,
    updatedAfter: async (iso) => {
      asked.push(iso);
      return issues;
    },
    projectId: () => 42,
    now: () => 2_000_000,
    logger: pino({ level: 'silent' }),
    onQueued: () => counts.queued++,
    retryMs: 1,
    marginMs,
  });
  return { catchUp, inbox, asked, counts };
}

async function swept(c: RefusalCatchUp): Promise<void> {
  while (c.lastSweep() === null) await new Promise((r) => setTimeout(r, 5));
}

describe('RefusalCatchUp', () => {
  it('records its last sweep: when, the window it covered and how many issues it queued', async () => {
    const { catchUp, inbox, asked, counts } = catchUpOf([{ iid: 3 }, { iid: 5 }], 60_000);
    expect(catchUp.lastSweep()).toBeNull();
    catchUp.refused(1_000_000);
    await swept(catchUp);
    expect(catchUp.lastSweep()).toEqual({ at: 2_000_000, since: 1_000_000, issues: 2 });
    expect(asked).toEqual([new Date(940_000).toISOString()]);
    expect(counts.queued).toBe(1);
    expect(inbox.depth().pending).toBe(2);
    expect(catchUp.pendingSince()).toBeNull();
  });

  it('reaches ten minutes before the first refusal by default (a comment may leave updated_at a minute old, a hook arrive late)', async () => {
    const { catchUp, asked } = catchUpOf([]);
    catchUp.refused(1_000_000);
    await swept(catchUp);
    expect(asked).toEqual([new Date(1_000_000 - 600_000).toISOString()]);
  });
});
