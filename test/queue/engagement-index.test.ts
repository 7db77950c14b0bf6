import { describe, expect, it } from 'vitest';
import type { EngagementRecord } from '../../src/domain/plan.js';
import { EngagementIndex } from '../../src/queue/engagement-index.js';

const assigned = (iid: number, assignee: string | null): { engagement: EngagementRecord | null } => ({
  engagement: { iid, open: true, state: 'assigned', assignee, accountKey: `acct-${iid}`, rotation: null },
});

describe('EngagementIndex', () => {
  it('decideAndRecord: each decision sees the ones recorded before it, never its own issue', () => {
    const index = EngagementIndex.open(':memory:');
    const seen: Array<Record<string, number>> = [];
    for (const iid of [1, 2, 3]) {
      index.decideAndRecord(7, iid, 0, (workload) => {
        seen.push({ ...workload.open });
        return assigned(iid, 'Casey.CSE');
      });
    }
    expect(seen).toEqual([{}, { 'casey.cse': 1 }, { 'casey.cse': 2 }]);
    // Deciding issue 2 again: it does not count against itself.
    const { workload } = index.decideAndRecord(7, 2, 0, () => assigned(2, null));
    expect(workload.open).toEqual({ 'casey.cse': 2 });
    expect(index.workload(7).open).toEqual({ 'casey.cse': 2 });
    index.close();
  });

  it('decideAndRecord records nothing when the decision has no engagement, and nothing when it throws', () => {
    const index = EngagementIndex.open(':memory:');
    index.decideAndRecord(7, 1, 0, () => ({ engagement: null }));
    expect(() =>
      index.decideAndRecord(7, 2, 0, () => {
        throw new Error('render failed');
      }),
    ).toThrow('render failed');
    expect(index.workload(7).open).toEqual({});
    index.close();
  });
});
