import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/queue/group-commit.js';
import { SqliteInbox } from '../../src/queue/sqlite-inbox.js';

const d = (key: string, iid = 1) => ({
  key,
  event: 'Issue Hook',
  uuid: null,
  body: '{}',
  issue: { projectId: 1, iid },
  receivedAt: 0,
});

describe('GroupCommit', () => {
  it('deliveries arriving together share one transaction, each answered only after it', async () => {
    const inbox = SqliteInbox.open(':memory:');
    let transactions = 0;
    const acceptMany = inbox.acceptMany.bind(inbox);
    inbox.acceptMany = (ds, now) => {
      transactions++;
      return acceptMany(ds, now);
    };
    const commits = new GroupCommit(inbox, () => 0);
    const results = await Promise.all([commits.accept(d('a')), commits.accept(d('b', 2)), commits.accept(d('a'))]);
    expect(transactions).toBe(1);
    expect(results.map((r) => r.duplicate)).toEqual([false, false, true]);
    expect((await commits.accept(d('c', 3))).duplicate).toBe(false);
    expect(transactions).toBe(2);
    inbox.close();
  });

  it('a failed transaction rejects every request in it (nothing acknowledged that was not written)', async () => {
    const inbox = SqliteInbox.open(':memory:');
    inbox.acceptMany = () => {
      throw new Error('disk full');
    };
    const commits = new GroupCommit(inbox, () => 0);
    const outcomes = await Promise.allSettled([commits.accept(d('a')), commits.accept(d('b'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    inbox.close();
  });
});
