import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/domain/config.js';
import { buildReport, median, nearestRank, type Report } from '../../src/domain/report.js';
import { customPeriod, periodOf } from '../../src/domain/report-period.js';
import type { RequestHistory } from '../../src/domain/request-history.js';
import { weekendsOnlyConfig } from '../helpers/config.js';
import { historyFixture } from '../helpers/request-history.js';

/**
 * A hand-built programme history. The example configuration leaves `calendar`, `sla` and `report`
 * at their defaults: weekend sat/sun, no holidays, report time zone UTC, accept within 2 business
 * days, stale after 10, top 5, at risk when renewing within 90 days. Regions amr and amr-east are
 * New York (EST, UTC-5, in November after the 1 Nov DST change), amr-west Los Angeles.
 *
 * November 2026: Sun 1, Mon 2, Fri 6, Mon 9, Mon 16, Fri 20, Mon 23, Mon 30; Thu 3 Dec is "now".
 */
const NOW = new Date('2026-12-03T12:00:00Z');
const NOVEMBER = periodOf('month', NOW); // 2026-11-01T00:00Z .. 2026-12-01T00:00Z

function req(p: Partial<RequestHistory> & Pick<RequestHistory, 'iid' | 'createdAt'>): RequestHistory {
  return historyFixture({ form: { id: 'ent_amr', version: 1 }, segment: 'ent', ...p });
}

const ENT = { form: { id: 'ent_amr', version: 1 }, segment: 'ent', region: 'amr' };
const MM2 = { form: { id: 'mm_amr', version: 2 }, segment: 'mm', region: 'amr' };
const MM1 = { form: { id: 'mm_amr', version: 1 }, segment: 'mm', region: 'amr' };
const SMB_EAST = { form: { id: 'smbeast_amr', version: 1 }, segment: 'smb', region: 'amr-east' };
const SMB_WEST = { form: { id: 'smbwest_amr', version: 1 }, segment: 'smb', region: 'amr-west' };

const HISTORY: RequestHistory[] = [
  // Completed: assign 2 h, accept 25 h, complete 192 h (8 days). Accept due Wed 4 Nov 16:00Z, met.
  req({
    iid: 1,
    ...ENT,
    createdAt: '2026-11-02T14:00:00Z',
    open: false,
    closedAt: '2026-11-10T14:00:00Z',
    atRisk: true,
    assignees: ['casey.cse'],
    state: 'completed',
    stateSince: '2026-11-10T14:00:00Z',
    reached: { assigned: '2026-11-02T16:00:00Z', accepted: '2026-11-03T15:00:00Z', completed: '2026-11-10T14:00:00Z' },
  }),
  // Completed: assign 1 h, accept 24 h, complete 240 h. Accept due Thu 5 Nov 13:00Z, met.
  req({
    iid: 11,
    ...ENT,
    createdAt: '2026-11-03T12:00:00Z',
    open: false,
    closedAt: '2026-11-13T12:00:00Z',
    assignees: ['drew.cse'],
    state: 'completed',
    stateSince: '2026-11-13T12:00:00Z',
    reached: { assigned: '2026-11-03T13:00:00Z', accepted: '2026-11-04T12:00:00Z', completed: '2026-11-13T12:00:00Z' },
  }),
  // Assigned Friday 16:00 New York: 2 business days → due Tuesday 10 Nov 16:00 NY (21:00Z).
  // Accepted Thursday 12 Nov 10:00 NY: 42 h late, 1 whole business day. Assign 1 h, accept 139 h.
  // Nothing done by a person since the acceptance: stale 10 business days later (Fri 13 (1), Mon 16
  // .. Fri 20 (2-6), Mon 23 .. Thu 26 (7-10)) → Thu 26 Nov 10:00 NY (15:00Z). At the end of November
  // (Mon 30 19:00 NY) 2 business days late (Fri 27, Mon 30), 105 h; waited since 12 Nov: 441 h.
  // The bot's own later edit (updatedAt 1 Dec) is no activity.
  req({
    iid: 2,
    ...MM2,
    createdAt: '2026-11-06T20:00:00Z',
    updatedAt: '2026-12-01T10:00:00Z',
    lastHumanActivity: '2026-11-12T15:00:00Z',
    customer: 'Later Inc',
    renewalDate: '2027-03-04',
    assignees: ['drew.cse'],
    state: 'accepted',
    stateSince: '2026-11-12T15:00:00Z',
    reached: { assigned: '2026-11-06T21:00:00Z', accepted: '2026-11-12T15:00:00Z' },
    problems: ['Customer name: missing', 'Customer name: missing'],
  }),
  // Needs info since 9 Nov, last activity Tue 10 Nov: waiting on its author, so no stale breach.
  req({
    iid: 3,
    ...SMB_EAST,
    createdAt: '2026-11-09T13:00:00Z',
    updatedAt: '2026-11-10T12:00:00Z',
    lastHumanActivity: '2026-11-10T12:00:00Z',
    renewalDate: '2027-03-03',
    customer: 'Gamma GmbH',
    state: 'needs-info',
    stateSince: '2026-11-09T13:05:00Z',
    reached: { 'needs-info': '2026-11-09T13:05:00Z' },
    problems: ['Customer name: missing', 'Renewal date: invalid'],
    notQualified: ['Not public sector'],
  }),
  // Needs info, then not qualified; still open. Renews today.
  req({
    iid: 4,
    ...SMB_WEST,
    createdAt: '2026-11-16T18:00:00Z',
    updatedAt: '2026-11-30T00:00:00Z',
    customer: 'Beta LLC',
    renewalDate: '2026-12-03',
    state: 'not-qualified',
    stateSince: '2026-11-17T10:00:00Z',
    reached: { 'needs-info': '2026-11-16T18:01:00Z', 'not-qualified': '2026-11-17T10:00:00Z' },
    problems: ['Customer name: missing'],
    notQualified: ['Not public sector', 'ARR within the segment range'],
  }),
  // Limit reached Fri 20 Nov 10:30 NY, never answered: due Tue 24 Nov 15:30Z; at the end of
  // November (Mon 30 19:00 NY) 4 business days (Wed 25 .. Mon 30) and 152.5 h late (6 d 8.5 h),
  // having waited 248.5 h since 20 Nov 15:30Z. Assign 0.5 h. Renewal in 43 days.
  req({
    iid: 5,
    ...ENT,
    createdAt: '2026-11-20T15:00:00Z',
    updatedAt: '2026-11-20T15:30:00Z',
    customer: 'Acme Corp',
    renewalDate: '2027-01-15',
    assignees: ['casey.cse'],
    state: 'limit-reached',
    stateSince: '2026-11-20T15:30:00Z',
    reached: { 'limit-reached': '2026-11-20T15:30:00Z' },
  }),
  // Assigned Mon 23 Nov 12:00 NY (3 h), declined the next day: no breach. Not-qualified reasons of
  // a declined request do not count.
  req({
    iid: 6,
    ...MM1,
    createdAt: '2026-11-23T14:00:00Z',
    open: false,
    closedAt: '2026-11-24T14:00:00Z',
    assignees: ['drew.cse'],
    state: 'declined',
    stateSince: '2026-11-24T14:00:00Z',
    notQualified: ['Something else'],
    reached: { assigned: '2026-11-23T17:00:00Z', declined: '2026-11-24T14:00:00Z' },
  }),
  req({
    iid: 7,
    ...SMB_EAST,
    createdAt: '2026-11-25T12:00:00Z',
    open: false,
    closedAt: '2026-11-25T18:00:00Z',
    state: 'withdrawn',
    stateSince: '2026-11-25T18:00:00Z',
    reached: { withdrawn: '2026-11-25T18:00:00Z' },
    problems: ['Renewal date: invalid', 'Customer goals and context: too-short'],
  }),
  // Created in October, completed in November: 384 h (16 days) counts towards "time to complete"
  // in November, its assignment and acceptance (October) do not. Completion credited to both assignees.
  req({
    iid: 8,
    ...ENT,
    createdAt: '2026-10-20T14:00:00Z',
    open: false,
    closedAt: '2026-11-05T14:00:00Z',
    assignees: ['casey.cse', 'other.person'],
    state: 'completed',
    stateSince: '2026-11-05T14:00:00Z',
    reached: { assigned: '2026-10-20T16:00:00Z', accepted: '2026-10-21T14:00:00Z', completed: '2026-11-05T14:00:00Z' },
    problems: ['Plan: not-an-option'],
  }),
  // Not a request (no form): counts nowhere.
  req({
    iid: 9,
    form: null,
    segment: null,
    region: null,
    createdAt: '2026-11-26T10:00:00Z',
    assignees: ['ghost.user'],
    atRisk: true,
  }),
  // Created in December: not "opened in the period", but open load and at-risk count it. Its accept
  // deadline (Thu 3 Dec 10:00Z) is past but outside the period.
  req({
    iid: 10,
    ...MM2,
    createdAt: '2026-12-01T09:00:00Z',
    updatedAt: '2026-12-01T10:00:00Z',
    atRisk: true,
    assignees: ['drew.cse'],
    state: 'assigned',
    stateSince: '2026-12-01T10:00:00Z',
    reached: { assigned: '2026-12-01T10:00:00Z' },
  }),
  // Opened in September, scheduled, nobody assigned; last human activity Mon 21 Sep 10:00 NY (EDT,
  // 14:00Z) → stale 10 business days later (Tue 22 .. Fri 25 (1-4), Mon 28 .. Fri 2 Oct (5-9),
  // Mon 5 (10)) → Mon 5 Oct 14:00Z: a breach of early October, never of November.
  req({
    iid: 14,
    ...ENT,
    createdAt: '2026-09-14T14:00:00Z',
    state: 'scheduled',
    stateSince: '2026-09-18T14:00:00Z',
    lastHumanActivity: '2026-09-21T14:00:00Z',
    reached: { assigned: '2026-09-14T15:00:00Z', accepted: '2026-09-15T14:00:00Z', scheduled: '2026-09-18T14:00:00Z' },
  }),
];

const config = weekendsOnlyConfig();
const withHolidays = (holidays: string[]): Config => ({ ...config, calendar: { ...config.calendar, holidays } });
const november = (): Report => buildReport(HISTORY, NOVEMBER, config, NOW);

describe('median and nearest-rank percentiles', () => {
  it('takes the middle value for odd counts and the mean of the two middle ones for even counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([10, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNull();
  });

  it('p90 is the value at rank ceil(0.9 n)', () => {
    const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(nearestRank(ten, 90)).toBe(9); // rank 9
    expect(nearestRank([1, 2, 3, 4, 5], 90)).toBe(5); // rank ceil(4.5) = 5
    expect(nearestRank([1, 2], 90)).toBe(2); // rank ceil(1.8) = 2
    expect(nearestRank([4], 90)).toBe(4);
    expect(nearestRank([...ten, 11], 90)).toBe(10); // 11 values: rank ceil(9.9) = 10
    expect(nearestRank([], 90)).toBeNull();
  });
});

describe('buildReport: a month', () => {
  const r = november();

  it('carries the period, the time it was made and the title', () => {
    expect(r.period).toEqual({ label: '2026-11', from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });
    expect(r.generatedAt).toBe('2026-12-03T12:00:00.000Z');
    expect(r.title).toBe('Scale engagement report 2026-11');
    expect(r.empty).toBe(false);
    expect(r.settings).toEqual({ acceptDays: 2, staleDays: 10, renewalAtRiskDays: 90, top: 5, timezone: 'UTC' });
  });

  it('counts the requests opened in the period by segment, region and form version', () => {
    // Opened in November with a form: 1, 11, 2, 3, 4, 5, 6, 7 (8 is October, 9 has no form, 10 is December).
    expect(r.opened.total).toBe(8);
    expect(r.opened.bySegment).toEqual([
      { id: 'ent', name: 'Enterprise', count: 3 }, // 1, 11, 5
      { id: 'mm', name: 'Mid-Market', count: 2 }, // 2, 6
      { id: 'smb', name: 'SMB', count: 3 }, // 3, 4, 7
    ]);
    expect(r.opened.byRegion).toEqual([
      { id: 'amr', name: 'AMER', count: 5 },
      { id: 'amr-east', name: 'AMER East', count: 2 },
      { id: 'amr-west', name: 'AMER West', count: 1 },
    ]);
    expect(r.opened.byForm).toEqual([
      { form: 'ent_amr', version: 1, title: 'Scale Engagement Request — Enterprise, AMER', count: 3 },
      { form: 'mm_amr', version: 1, title: 'Scale Engagement Request — Mid-Market, AMER', count: 1 },
      { form: 'mm_amr', version: 2, title: 'Scale Engagement Request — Mid-Market, AMER', count: 1 },
      { form: 'smbeast_amr', version: 1, title: 'Scale Engagement Request — SMB East, AMER', count: 2 },
      { form: 'smbwest_amr', version: 1, title: 'Scale Engagement Request — SMB West, AMER', count: 1 },
    ]);
  });

  it('lists the current states of the requests opened in the period', () => {
    expect(r.outcomes).toEqual([
      { state: 'needs-info', count: 1 },
      { state: 'not-qualified', count: 1 },
      { state: 'limit-reached', count: 1 },
      { state: 'accepted', count: 1 },
      { state: 'completed', count: 2 },
      { state: 'declined', count: 1 },
      { state: 'withdrawn', count: 1 },
    ]);
  });

  it('builds the funnel', () => {
    expect(r.funnel.opened).toBe(8);
    expect(r.funnel.stillOpen).toBe(4); // 2, 3, 4, 5
    expect(r.funnel.steps).toEqual([
      { stage: 'needs-info', reached: 2, stillOpen: 2 }, // 3, 4
      { stage: 'not-qualified', reached: 1, stillOpen: 1 }, // 4
      { stage: 'assigned', reached: 5, stillOpen: 2 }, // 1, 11, 2, 5 (limit reached), 6; open: 2, 5
      { stage: 'accepted', reached: 3, stillOpen: 1 }, // 1, 11, 2; open: 2
      { stage: 'completed', reached: 2, stillOpen: 0 }, // 1, 11
      { stage: 'declined', reached: 1, stillOpen: 0 }, // 6
      { stage: 'withdrawn', reached: 1, stillOpen: 0 }, // 7
    ]);
  });

  it('computes durations over the milestones reached in the period (odd counts)', () => {
    // Assign: 1 → 2 h, 11 → 1 h, 2 → 1 h, 5 → 0.5 h, 6 → 3 h; sorted 0.5 1 1 2 3.
    // Median the 3rd value (1); p90 rank ceil(4.5) = 5 → 3.
    expect(r.durations.assign).toEqual({ count: 5, medianHours: 1, p90Hours: 3 });
    // Accept: 11 → 24 h, 1 → 25 h, 2 → 139 h (8's October acceptance is out). Median 25; p90 rank 3 → 139.
    expect(r.durations.accept).toEqual({ count: 3, medianHours: 25, p90Hours: 139 });
    // Complete: 1 → 192 h, 11 → 240 h, 8 → 384 h (created in October, completed in November).
    expect(r.durations.complete).toEqual({ count: 3, medianHours: 240, p90Hours: 384 });
  });

  it('gives each CSE their open load and completions, then other assignees', () => {
    expect(r.cses).toEqual([
      // Open: 5. Completed in November: 1, 8.
      { username: 'casey.cse', name: 'Casey Kim', cse: true, openLoad: 1, completions: 2 },
      // Open: 2 (accepted), 10 (assigned, created in December). Completed: 11.
      { username: 'drew.cse', name: 'Drew Patel', cse: true, openLoad: 2, completions: 1 },
      { username: 'emery.cse', name: 'Emery Chen', cse: true, openLoad: 0, completions: 0 },
      { username: 'finley.cse', name: 'Finley Novak', cse: true, openLoad: 0, completions: 0 },
      { username: 'gray.cse', name: 'Gray Okafor', cse: true, openLoad: 0, completions: 0 },
      // Not a CSE in the configuration, but credited with 8. ghost.user (on a non-request) is absent.
      { username: 'other.person', name: null, cse: false, openLoad: 0, completions: 1 },
    ]);
  });

  it('lists the breaches that fell due in the period, of requests the service level applies to', () => {
    // Not 3 (waiting on its author), not 14 (due in October), not 10 (due in December).
    expect(r.breaches).toEqual([
      {
        kind: 'accept',
        iid: 2,
        title: 'Request 2',
        url: 'https://gitlab.example/sales/requests/-/issues/2',
        since: '2026-11-06T21:00:00Z',
        due: '2026-11-10T21:00:00.000Z', // Friday 16:00 NY → Tuesday 16:00 NY
        // Waited 6 Nov 21:00Z → 12 Nov 15:00Z: 5 d 18 h = 138 h.
        resolvedAt: '2026-11-12T15:00:00Z',
        openAtEnd: false,
        lateBusinessDays: 1,
        lateHours: 42,
        waitedHours: 138,
      },
      {
        kind: 'accept',
        iid: 5,
        title: 'Request 5',
        url: 'https://gitlab.example/sales/requests/-/issues/5',
        since: '2026-11-20T15:30:00Z',
        due: '2026-11-24T15:30:00.000Z',
        resolvedAt: null,
        openAtEnd: true,
        lateBusinessDays: 4,
        lateHours: 152.5,
        waitedHours: 248.5,
      },
      {
        kind: 'stale',
        iid: 2,
        title: 'Request 2',
        url: 'https://gitlab.example/sales/requests/-/issues/2',
        since: '2026-11-12T15:00:00Z',
        due: '2026-11-26T15:00:00.000Z',
        resolvedAt: null,
        openAtEnd: true,
        lateBusinessDays: 2,
        lateHours: 105,
        waitedHours: 441,
      },
    ]);
  });

  it('ranks validation problems and not-qualified reasons', () => {
    // Each problem once per request: "Customer name: missing" on 2, 3, 4; "Renewal date: invalid" on
    // 3, 7; 8's problem is from October.
    expect(r.topProblems).toEqual([
      { text: 'Customer name: missing', count: 3 },
      { text: 'Renewal date: invalid', count: 2 },
      { text: 'Customer goals and context: too-short', count: 1 },
    ]);
    // Only 4 is not-qualified now (3 is needs-info, 6 declined); ties sorted by text.
    expect(r.topNotQualified).toEqual([
      { text: 'ARR within the segment range', count: 1 },
      { text: 'Not public sector', count: 1 },
    ]);
    const top2 = buildReport(HISTORY, NOVEMBER, { ...config, report: { ...config.report, top: 2 } }, NOW);
    expect(top2.topProblems.map((p) => p.text)).toEqual(['Customer name: missing', 'Renewal date: invalid']);
  });

  it('lists the open requests at risk, soonest renewal first', () => {
    // Today is 2026-12-03 (UTC). 3 renews in exactly 90 days (included), 2 in 91 (not), 1 is closed.
    expect(r.atRisk).toEqual([
      {
        iid: 4,
        title: 'Request 4',
        url: 'https://gitlab.example/sales/requests/-/issues/4',
        customer: 'Beta LLC',
        renewalDate: '2026-12-03',
        daysToRenewal: 0,
        reasons: ['renewal today'],
        segment: 'smb',
        state: 'not-qualified',
        assignees: [],
      },
      {
        iid: 5,
        title: 'Request 5',
        url: 'https://gitlab.example/sales/requests/-/issues/5',
        customer: 'Acme Corp',
        renewalDate: '2027-01-15',
        daysToRenewal: 43,
        reasons: ['renewal in 43 days'],
        segment: 'ent',
        state: 'limit-reached',
        assignees: ['casey.cse'],
      },
      {
        iid: 3,
        title: 'Request 3',
        url: 'https://gitlab.example/sales/requests/-/issues/3',
        customer: 'Gamma GmbH',
        renewalDate: '2027-03-03',
        daysToRenewal: 90,
        reasons: ['renewal in 90 days'],
        segment: 'smb',
        state: 'needs-info',
        assignees: [],
      },
      {
        iid: 10,
        title: 'Request 10',
        url: 'https://gitlab.example/sales/requests/-/issues/10',
        customer: null,
        renewalDate: null,
        daysToRenewal: null,
        reasons: ['flagged at risk'],
        segment: 'mm',
        state: 'assigned',
        assignees: ['drew.cse'],
      },
    ]);
  });

  it('buckets a month by ISO week, clipped to the period', () => {
    expect(r.series.granularity).toBe('week');
    expect(r.series.buckets).toEqual([
      { label: '2026-W44', from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T00:00:00.000Z' },
      { label: '2026-W45', from: '2026-11-02T00:00:00.000Z', to: '2026-11-09T00:00:00.000Z' },
      { label: '2026-W46', from: '2026-11-09T00:00:00.000Z', to: '2026-11-16T00:00:00.000Z' },
      { label: '2026-W47', from: '2026-11-16T00:00:00.000Z', to: '2026-11-23T00:00:00.000Z' },
      { label: '2026-W48', from: '2026-11-23T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z' },
      { label: '2026-W49', from: '2026-11-30T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
    ]);
    expect(r.series.segments).toEqual([
      { id: 'ent', name: 'Enterprise', counts: [0, 2, 0, 1, 0, 0] }, // 1, 11 | 5
      { id: 'mm', name: 'Mid-Market', counts: [0, 1, 0, 0, 1, 0] }, // 2 | 6
      { id: 'smb', name: 'SMB', counts: [0, 0, 1, 1, 1, 0] }, // 3 | 4 | 7
    ]);
  });

  it('has one row per request opened in the period, oldest first', () => {
    expect(r.rows.map((x) => x.iid)).toEqual([1, 11, 2, 3, 4, 5, 6, 7]);
    expect(r.rows[0]).toEqual({
      iid: 1,
      url: 'https://gitlab.example/sales/requests/-/issues/1',
      createdAt: '2026-11-02T14:00:00Z',
      form: 'ent_amr',
      formVersion: 1,
      segment: 'ent',
      region: 'amr',
      state: 'completed',
      open: false,
      assignedAt: '2026-11-02T16:00:00Z',
      acceptedAt: '2026-11-03T15:00:00Z',
      completedAt: '2026-11-10T14:00:00Z',
      hoursToAssign: 2,
      hoursToAccept: 25,
      hoursToComplete: 192,
    });
    // Limit reached counts as the assignment.
    expect(r.rows[5]).toMatchObject({
      iid: 5,
      assignedAt: '2026-11-20T15:30:00Z',
      hoursToAssign: 0.5,
      hoursToAccept: null,
      acceptedAt: null,
    });
  });

  it('is plain JSON data', () => {
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('buildReport: SLA calendar edges', () => {
  const breachOf2 = (c: Config) =>
    buildReport(HISTORY, NOVEMBER, c, NOW).breaches.find((b) => b.iid === 2 && b.kind === 'accept');

  it('a holiday on the Monday pushes the Friday 16:00 NY deadline to Wednesday 16:00 NY', () => {
    const b = breachOf2(withHolidays(['2026-11-09']));
    // Due Wed 11 Nov 21:00Z; accepted Thu 12 Nov 15:00Z: 18 h late, no whole business day.
    expect(b).toMatchObject({
      due: '2026-11-11T21:00:00.000Z',
      resolvedAt: '2026-11-12T15:00:00Z',
      lateBusinessDays: 0,
      lateHours: 18,
    });
  });

  it('a region holiday works like a global one, and only in its region', () => {
    const c: Config = {
      ...config,
      regions: { ...config.regions, amr: { ...config.regions.amr!, holidays: ['2026-11-09'] } },
    };
    expect(breachOf2(c)?.due).toBe('2026-11-11T21:00:00.000Z');
    const west: Config = {
      ...config,
      regions: { ...config.regions, 'amr-west': { ...config.regions['amr-west']!, holidays: ['2026-11-09'] } },
    };
    expect(breachOf2(west)?.due).toBe('2026-11-10T21:00:00.000Z');
  });

  it('no breach when the holidays push the deadline past the acceptance', () => {
    expect(breachOf2(withHolidays(['2026-11-09', '2026-11-10', '2026-11-11']))).toBeUndefined();
  });

  it('a request withdrawn before its deadline stopped the clock; after it, it breached', () => {
    const base = req({
      iid: 40,
      ...ENT,
      createdAt: '2026-11-02T14:00:00Z',
      open: false,
      state: 'withdrawn',
      reached: { assigned: '2026-11-02T15:00:00Z', withdrawn: '2026-11-03T15:00:00Z' },
      stateSince: '2026-11-03T15:00:00Z',
    });
    expect(buildReport([base], NOVEMBER, config, NOW).breaches).toEqual([]);
    const late = {
      ...base,
      reached: { ...base.reached, withdrawn: '2026-11-06T15:00:00Z' },
      stateSince: '2026-11-06T15:00:00Z',
    };
    // Due Wed 4 Nov 15:00Z; withdrawn Fri 6 Nov 15:00Z: 2 business days (Thu, Fri), 48 h.
    expect(buildReport([late], NOVEMBER, config, NOW).breaches).toEqual([
      expect.objectContaining({
        kind: 'accept',
        iid: 40,
        due: '2026-11-04T15:00:00.000Z',
        resolvedAt: '2026-11-06T15:00:00Z',
        lateBusinessDays: 2,
        lateHours: 48,
      }),
    ]);
  });

  it('counts only deadlines before now when the period is still running', () => {
    // Period Nov 23 .. Dec 10 at now Thu 3 Dec 12:00Z: 10's deadline (3 Dec 10:00Z) is in; with
    // now at 09:00Z it is not yet due.
    const running = customPeriod('2026-11-23', '2026-12-10');
    const at = (iso: string) =>
      buildReport(HISTORY, running, config, new Date(iso))
        .breaches.filter((b) => b.kind === 'accept')
        .map((b) => b.iid);
    expect(at('2026-12-03T12:00:00Z')).toEqual([5, 10]);
    expect(at('2026-12-03T09:00:00Z')).toEqual([5]);
  });
});

describe('buildReport: a week, even counts and day buckets', () => {
  const w45 = buildReport(HISTORY, periodOf('week', new Date('2026-11-10T08:00:00Z')), config, NOW);

  it('covers Mon 2 Nov .. Mon 9 Nov', () => {
    expect(w45.period).toEqual({ label: '2026-W45', from: '2026-11-02T00:00:00.000Z', to: '2026-11-09T00:00:00.000Z' });
    expect(w45.opened.total).toBe(3); // 1, 11, 2 (3 was created on the 9th, 13:00Z)
  });

  it('medians over even counts are the mean of the two middle values', () => {
    // Assign: 1 → 2 h, 11 → 1 h, 2 → 1 h: median 1, p90 rank 3 → 2.
    expect(w45.durations.assign).toEqual({ count: 3, medianHours: 1, p90Hours: 2 });
    // Accept: 11 → 24 h, 1 → 25 h: median 24.5, p90 rank ceil(1.8) = 2 → 25.
    expect(w45.durations.accept).toEqual({ count: 2, medianHours: 24.5, p90Hours: 25 });
    // Complete: 8 on 5 Nov → 384 h only.
    expect(w45.durations.complete).toEqual({ count: 1, medianHours: 384, p90Hours: 384 });
  });

  it('buckets by day', () => {
    expect(w45.series.granularity).toBe('day');
    expect(w45.series.buckets.map((b) => b.label)).toEqual([
      '2026-11-02',
      '2026-11-03',
      '2026-11-04',
      '2026-11-05',
      '2026-11-06',
      '2026-11-07',
      '2026-11-08',
    ]);
    expect(w45.series.buckets[1]).toEqual({
      label: '2026-11-03',
      from: '2026-11-03T00:00:00.000Z',
      to: '2026-11-04T00:00:00.000Z',
    });
    expect(w45.series.buckets[6]).toEqual({
      label: '2026-11-08',
      from: '2026-11-08T00:00:00.000Z',
      to: '2026-11-09T00:00:00.000Z',
    });
    expect(w45.series.segments.find((s) => s.id === 'ent')?.counts).toEqual([1, 1, 0, 0, 0, 0, 0]);
    expect(w45.series.segments.find((s) => s.id === 'mm')?.counts).toEqual([0, 0, 0, 0, 1, 0, 0]);
    expect(w45.series.segments.find((s) => s.id === 'smb')?.counts).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('a 14-day period still has day buckets; 15 days has weeks', () => {
    expect(buildReport(HISTORY, customPeriod('2026-11-02', '2026-11-15'), config, NOW).series.buckets).toHaveLength(14);
    const fifteen = buildReport(HISTORY, customPeriod('2026-11-02', '2026-11-16'), config, NOW).series;
    expect(fifteen.granularity).toBe('week');
    expect(fifteen.buckets.map((b) => b.label)).toEqual(['2026-W45', '2026-W46', '2026-W47']);
    expect(fifteen.buckets[2]).toEqual({
      label: '2026-W47',
      from: '2026-11-16T00:00:00.000Z',
      to: '2026-11-17T00:00:00.000Z',
    });
  });
});

describe('buildReport: an empty period', () => {
  const r = buildReport(HISTORY, customPeriod('2026-10-01', '2026-10-10'), config, NOW);

  it('says it is empty and has zero counts and null durations', () => {
    expect(r.empty).toBe(true);
    expect(r.opened.total).toBe(0);
    expect(r.opened.bySegment.map((s) => s.count)).toEqual([0, 0, 0]);
    expect(r.opened.byForm).toEqual([]);
    expect(r.outcomes).toEqual([]);
    expect(r.funnel.steps.every((s) => s.reached === 0 && s.stillOpen === 0)).toBe(true);
    expect(r.durations).toEqual({
      assign: { count: 0, medianHours: null, p90Hours: null },
      accept: { count: 0, medianHours: null, p90Hours: null },
      complete: { count: 0, medianHours: null, p90Hours: null },
    });
    expect(r.rows).toEqual([]);
    expect(r.topProblems).toEqual([]);
  });

  it('still reports the current state: loads, the period’s breaches, at-risk requests', () => {
    expect(r.cses.find((c) => c.username === 'drew.cse')).toMatchObject({ openLoad: 2, completions: 0 });
    // 14 went stale on Mon 5 Oct 14:00Z; at the period's end (Sun 11 Oct 00:00Z = Sat 10 Oct 20:00
    // NY) 4 business days late (Tue 6 .. Fri 9), 130 h (5 d 10 h); waited since 21 Sep 14:00Z: 466 h.
    expect(r.breaches).toEqual([
      expect.objectContaining({
        kind: 'stale',
        iid: 14,
        due: '2026-10-05T14:00:00.000Z',
        openAtEnd: true,
        lateBusinessDays: 4,
        lateHours: 130,
        waitedHours: 466,
      }),
    ]);
    expect(r.atRisk.map((a) => a.iid)).toEqual([4, 5, 3, 10]);
    expect(r.series.granularity).toBe('day');
    expect(r.series.buckets).toHaveLength(10);
  });

  it('is empty with no history at all', () => {
    const none = buildReport([], NOVEMBER, config, NOW);
    expect(none.empty).toBe(true);
    expect(none.breaches).toEqual([]);
    expect(none.cses.map((c) => c.username)).toEqual(['casey.cse', 'drew.cse', 'emery.cse', 'finley.cse', 'gray.cse']);
  });
});
