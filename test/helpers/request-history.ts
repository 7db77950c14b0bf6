import type { RequestHistory } from '../../src/domain/request-history.js';

/** A request history for tests: an open mm_amr request by alex.ae with nothing happened yet. */
export function historyFixture(p: Partial<RequestHistory> & Pick<RequestHistory, 'iid'>): RequestHistory {
  const createdAt = p.createdAt ?? '2026-11-20T20:00:00Z';
  return {
    title: `Request ${p.iid}`,
    webUrl: `https://gitlab.example/sales/requests/-/issues/${p.iid}`,
    author: 'alex.ae',
    open: true,
    createdAt,
    updatedAt: createdAt,
    closedAt: null,
    assignees: [],
    form: { id: 'mm_amr', version: 2 },
    segment: 'mm',
    region: 'amr',
    customer: null,
    renewalDate: null,
    atRisk: false,
    state: null,
    stateSince: null,
    reached: {},
    timeline: [],
    lastHumanActivity: null,
    problems: [],
    notQualified: [],
    ...p,
  };
}
