import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { EngagementRecord } from '../../src/domain/plan.js';
import { RoutingState } from '../../src/worker/routing-state.js';
import { exampleConfig } from '../helpers/config.js';
import { useNock } from '../helpers/nock.js';
import { NOCKED_GITLAB, nockedClient } from '../helpers/nocked-client.js';

const GITLAB = NOCKED_GITLAB;
const API = `${GITLAB}/api/v4`;
const LIST = '/projects/4/issues';

let nextId = 1;
function issue(iid: number, labels: string[], assignees: string[], state: 'opened' | 'closed' = 'opened') {
  return {
    id: nextId++,
    iid,
    title: `#${iid}`,
    state,
    author: { username: 'alex.ae' },
    labels,
    assignees: assignees.map((username) => ({ username })),
    web_url: `${GITLAB}/sales/requests/-/issues/${iid}`,
    created_at: '2026-11-30T09:00:00.000Z',
  };
}

function routingState(clock = { now: 0 }) {
  return new RoutingState(nockedClient(), exampleConfig, { maxAgeMs: 60_000, now: () => clock.now });
}

/** The newest requests of the two round-robin pools of the example (smb/amr-east, smb/amr-west). */
function poolListings(east: unknown[] = [], west: unknown[] = []) {
  const pool = (region: string) => (q: Record<string, unknown>) =>
    q.labels === `segment::smb,region::${region}` &&
    q.order_by === 'created_at' &&
    q.sort === 'desc' &&
    q.state === undefined;
  return nock(API)
    .get(LIST)
    .query(pool('amr-east'))
    .reply(200, east)
    .get(LIST)
    .query(pool('amr-west'))
    .reply(200, west);
}

const record = (
  iid: number,
  assignee: string | null,
  rotation: EngagementRecord['rotation'] = null,
): { engagement: EngagementRecord } => ({
  engagement: { iid, open: true, state: 'assigned', assignee, accountKey: null, rotation },
});

useNock();

describe('RoutingState: routing memory derived from GitLab', () => {
  it("counts open engagements per assignee from one listing, leaving out non-requests, closed states and the bot's own issues", async () => {
    nock(API)
      .get(LIST)
      .query((q) => q.state === 'opened')
      .reply(200, [
        issue(1, ['engagement::assigned', 'segment::mm'], ['Drew.CSE']),
        issue(2, ['engagement::accepted'], ['drew.cse']),
        issue(3, ['engagement::completed'], ['drew.cse']),
        issue(4, ['engagement::not-a-request'], ['casey.cse']),
        issue(5, ['scale-bot::operations', 'engagement::assigned'], ['casey.cse']),
        issue(6, [], ['casey.cse']),
        issue(7, ['engagement::scheduled'], ['casey.cse', 'gray.cse']),
      ]);
    poolListings();
    const state = routingState();
    await state.ready();
    expect(state.workload().open).toEqual({ 'drew.cse': 2, 'casey.cse': 1, 'gray.cse': 1 });
    // The issue being decided does not count against itself.
    expect(state.workload(1).open).toEqual({ 'drew.cse': 1, 'casey.cse': 1, 'gray.cse': 1 });
  });

  it('places each round-robin rotation at the newest request (open or closed) assigned to a member of the pool', async () => {
    nock(API)
      .get(LIST)
      .query((q) => q.state === 'opened')
      .reply(200, []);
    poolListings(
      [
        issue(9, ['segment::smb', 'region::amr-east'], []),
        issue(8, ['segment::smb', 'region::amr-east'], ['harper.mgr']),
        issue(7, ['segment::smb', 'region::amr-east'], ['Gray.CSE'], 'closed'),
      ],
      [],
    );
    const state = routingState();
    await state.ready();
    expect(state.workload().lastAssigned).toEqual({ 'smb/amr-east': 'Gray.CSE' });
  });

  it('decideAndRecord: each decision sees the reservations made before it; the reconcile listing seeds it without a second read', async () => {
    poolListings();
    const state = routingState();
    await state.seed([issue(1, ['engagement::assigned'], ['casey.cse'])]);
    const seen: Array<Record<string, number>> = [];
    for (const iid of [2, 3]) {
      state.decideAndRecord(iid, (workload) => {
        seen.push({ ...workload.open });
        return record(iid, 'Casey.CSE', { pool: 'smb/amr-east', username: 'gray.cse' });
      });
    }
    expect(seen).toEqual([{ 'casey.cse': 1 }, { 'casey.cse': 2 }]);
    expect(state.workload().lastAssigned).toEqual({ 'smb/amr-east': 'gray.cse' });
    state.markClosed(1);
    expect(state.workload().open).toEqual({ 'casey.cse': 2 });
    // Within maxAgeMs, ready() reads nothing (no mock left to answer it).
    await state.ready();
  });

  it('is read again once older than maxAgeMs, keeping the reservations made while the new listing was under way', async () => {
    const clock = { now: 0 };
    const state = routingState(clock);
    nock(API)
      .get(LIST)
      .query((q) => q.state === 'opened')
      .reply(200, []);
    poolListings();
    await state.ready();
    clock.now = 61_000;
    nock(API)
      .get(LIST)
      .query((q) => q.state === 'opened')
      .delay(50)
      .reply(200, [issue(1, ['engagement::assigned'], ['drew.cse'])]);
    poolListings();
    const reloading = state.ready();
    state.decideAndRecord(2, () => record(2, 'casey.cse'));
    await reloading;
    expect(state.workload().open).toEqual({ 'drew.cse': 1, 'casey.cse': 1 });
  });

  it('a failed read leaves nothing half-loaded and is tried again on the next pass', async () => {
    const state = routingState();
    nock(API)
      .get(LIST)
      .query((q) => q.state === 'opened')
      .reply(500, { message: 'boom' });
    poolListings();
    await expect(state.ready()).rejects.toThrow();
    nock(API)
      .get(LIST)
      .query((q) => q.state === 'opened')
      .reply(200, [issue(1, ['engagement::assigned'], ['drew.cse'])]);
    poolListings();
    await state.ready();
    expect(state.workload().open).toEqual({ 'drew.cse': 1 });
  });
});
