import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planReminders } from '../../src/domain/reminders.js';
import { buildReport } from '../../src/domain/report.js';
import { periodOf } from '../../src/domain/report-period.js';
import { requestHistory, type NotesRead } from '../../src/domain/request-history.js';
import type { IssueRecord, LabelEvent } from '../../src/domain/snapshot.js';
import { renderReport } from '../../src/render/report.js';
import { exampleConfig } from '../helpers/config.js';
import { REPO_ROOT } from '../cli/run-cli.js';

/**
 * Issue #14's acceptance case: a seeded history — issues, their label events and (where the jobs
 * read them) their notes — with refused moves, a closed not-qualified request, Thanksgiving and
 * breaches inside and outside the period, turned into histories exactly as the jobs do, then into
 * November's report and the reminders of Thu 3 Dec. Every expected value is worked out by hand below.
 *
 * The example configuration: accept within 2 business days (escalate 1 later), stale after 10;
 * region amr counts in New York time (EST, UTC-5 in November) with the US public holidays except
 * Columbus Day and Veterans Day: Thanksgiving, Thu 26 Nov 2026, is a day off; Wed 11 Nov is not.
 * November 2026: Mon 2, Mon 9, Mon 16, Mon 23, Mon 30. The period ends Tue 1 Dec 00:00Z = Mon 30 Nov
 * 19:00 New York.
 */
const config = exampleConfig();
const BOT = 'scale-bot';
const sample = (name: string) => readFileSync(join(REPO_ROOT, 'samples', 'requests', name), 'utf8');
let eventId = 1;
const add = (state: string, at: string, user: string): LabelEvent => ({
  id: eventId++,
  user,
  createdAt: at,
  label: `engagement::${state}`,
  action: 'add',
});
const issue = (p: Partial<IssueRecord> & Pick<IssueRecord, 'iid' | 'createdAt'>): IssueRecord => ({
  title: `Request ${p.iid}`,
  description: sample('mm-amr-valid.md'),
  state: 'opened',
  author: 'alex.ae',
  labels: [],
  assignees: [],
  webUrl: `https://gitlab.example/sales/requests/-/issues/${p.iid}`,
  updatedAt: '2026-12-02T09:00:00Z', // the bot's own edits: never activity
  closedAt: null,
  ...p,
});

const SEEDED: Array<{ issue: IssueRecord; events: LabelEvent[]; notes: NotesRead | null }> = [
  {
    // A — assigned Wed 25 Nov 09:05 NY. The AE's accept on Thanksgiving was refused (the bot put
    // `assigned` back a minute later). Drew accepted Mon 30 Nov 08:00 NY (13:00Z). Accept due:
    // Thu 26 is Thanksgiving, so Fri 27 (1), Mon 30 (2) → Mon 30 09:05 NY (14:05Z): met (without
    // the holiday it would have been due Fri 27 and missed). Time to accept: 25 Nov 14:00Z → 30 Nov
    // 13:00Z = 4 d 23 h = 119 h, not the 25 h the refused move would give.
    issue: issue({
      iid: 21,
      createdAt: '2026-11-25T14:00:00Z',
      labels: ['engagement::accepted'],
      assignees: ['drew.cse'],
    }),
    events: [
      add('assigned', '2026-11-25T14:05:00Z', BOT),
      add('accepted', '2026-11-26T15:00:00Z', 'alex.ae'),
      add('assigned', '2026-11-26T15:01:00Z', BOT),
      add('accepted', '2026-11-30T13:00:00Z', 'drew.cse'),
    ],
    // Open and accepted: the jobs read its notes (the bot's record holds the same transitions).
    notes: {
      recorded: [
        { state: 'assigned', at: '2026-11-25T14:05:00Z', by: BOT },
        { state: 'accepted', at: '2026-11-30T13:00:00Z', by: 'drew.cse' },
      ],
      humanNoteTimes: [],
    },
  },
  {
    // B — ent, assigned to Casey Mon 16 Nov 10:05 NY (15:05Z), never answered. A refused accept by
    // the AE on Fri 20 (reverted at 14:01Z) does not restart the clock: due Wed 18 Nov 10:05 NY
    // (15:05Z). At the period's end: Thu 19, Fri 20, Mon 23, Tue 24, Wed 25, (Thanksgiving), Fri 27,
    // Mon 30 → 7 business days late; 18 Nov 15:05Z → 1 Dec 00:00Z = 296 h 55 min → 296.9 h; waited
    // since 16 Nov 15:05Z: 344 h 55 min → 344.9 h. Escalation due one business day later, Thu 19 Nov
    // 15:05Z.
    issue: issue({
      iid: 22,
      description: sample('ent-amr-valid.md'),
      createdAt: '2026-11-16T15:00:00Z',
      labels: ['engagement::assigned'],
      assignees: ['casey.cse'],
    }),
    events: [
      add('assigned', '2026-11-16T15:05:00Z', BOT),
      add('accepted', '2026-11-20T14:00:00Z', 'alex.ae'),
      add('assigned', '2026-11-20T14:01:00Z', BOT),
    ],
    // No bot note (say it was deleted): the timeline is rebuilt from the labels.
    notes: null,
  },
  {
    // C — not qualified (ARR above the SMB range), then closed by its author: withdrawn. It counts
    // in the funnel's "not qualified" and in the reasons table.
    issue: issue({
      iid: 23,
      description: sample('smbwest-amr-over-range.md'),
      author: 'jordan.ae',
      createdAt: '2026-11-03T17:00:00Z',
      state: 'closed',
      closedAt: '2026-11-04T18:00:00Z',
      labels: ['engagement::withdrawn'],
    }),
    events: [add('not-qualified', '2026-11-03T17:01:00Z', BOT), add('withdrawn', '2026-11-04T18:02:00Z', BOT)],
    notes: null,
  },
  {
    // D — waiting on its author since 9 Nov: no stale breach (the stale-request rule handles it).
    issue: issue({
      iid: 24,
      description: sample('smbeast-amr-missing-fields.md'),
      author: 'jordan.ae',
      createdAt: '2026-11-09T15:00:00Z',
      labels: ['engagement::needs-info'],
    }),
    events: [add('needs-info', '2026-11-09T15:01:00Z', BOT)],
    notes: { recorded: [{ state: 'needs-info', at: '2026-11-09T15:01:00Z', by: BOT }], humanNoteTimes: [] },
  },
  {
    // E — accepted Tue 3 Nov; Drew's last comment Wed 4 Nov 12:00 NY (17:00Z), nothing by a person
    // since. Stale 10 business days later (Veterans Day, Wed 11, is a working day here): Thu 5 (1),
    // Fri 6, Mon 9, Tue 10, Wed 11 (5), Thu 12, Fri 13, Mon 16, Tue 17, Wed 18 (10) → Wed 18 Nov
    // 17:00Z. At the period's end: Thu 19 .. Wed 25 (5), Fri 27 (6), Mon 30 (7) → 7 business days;
    // 18 Nov 17:00Z → 1 Dec 00:00Z = 295 h; waited since 4 Nov 17:00Z: 631 h. Time to accept:
    // 2 Nov 14:00Z → 3 Nov 15:00Z = 25 h.
    issue: issue({
      iid: 25,
      createdAt: '2026-11-02T14:00:00Z',
      labels: ['engagement::accepted'],
      assignees: ['drew.cse'],
    }),
    events: [add('assigned', '2026-11-02T14:05:00Z', BOT), add('accepted', '2026-11-03T15:00:00Z', 'drew.cse')],
    notes: {
      recorded: [
        { state: 'assigned', at: '2026-11-02T14:05:00Z', by: BOT },
        { state: 'accepted', at: '2026-11-03T15:00:00Z', by: 'drew.cse' },
      ],
      humanNoteTimes: ['2026-11-04T17:00:00Z'],
    },
  },
  {
    // F — opened in October, assigned Mon 26 Oct 10:05 EDT (14:05Z), accepted Mon 2 Nov 15:00Z:
    // its accept breach fell due Wed 28 Oct 14:05Z, outside November, so November lists none. Its
    // acceptance counts in November's time to accept: 26 Oct 14:00Z → 2 Nov 15:00Z = 7 d 1 h = 169 h.
    issue: issue({
      iid: 26,
      createdAt: '2026-10-26T14:00:00Z',
      state: 'closed',
      closedAt: '2026-11-20T15:00:00Z',
      labels: ['engagement::completed'],
      assignees: ['casey.cse'],
    }),
    events: [
      add('assigned', '2026-10-26T14:05:00Z', BOT),
      add('accepted', '2026-11-02T15:00:00Z', 'casey.cse'),
      add('completed', '2026-11-20T15:00:00Z', 'casey.cse'),
    ],
    notes: null,
  },
];

const histories = SEEDED.map((s) => requestHistory(s.issue, s.events, config, '2026-12-03', s.notes));
const report = buildReport(
  histories,
  periodOf('month', new Date('2026-12-03T12:00:00Z')),
  config,
  new Date('2026-12-03T12:00:00Z'),
);

describe('November’s report over the seeded history', () => {
  it('counts what the requests went through, not the refused moves', () => {
    expect(report.opened.total).toBe(5); // A, B, C, D, E (F was opened in October)
    expect(report.funnel.steps).toEqual([
      { stage: 'needs-info', reached: 1, stillOpen: 1 }, // D
      { stage: 'not-qualified', reached: 1, stillOpen: 0 }, // C, closed
      { stage: 'assigned', reached: 3, stillOpen: 3 }, // A, B, E
      { stage: 'accepted', reached: 2, stillOpen: 2 }, // A (on the 30th), E; not B (refused)
      { stage: 'completed', reached: 0, stillOpen: 0 },
      { stage: 'declined', reached: 0, stillOpen: 0 },
      { stage: 'withdrawn', reached: 1, stillOpen: 0 }, // C
    ]);
    expect(report.rows.find((r) => r.iid === 21)).toMatchObject({
      acceptedAt: '2026-11-30T13:00:00Z',
      hoursToAccept: 119,
    });
    expect(report.rows.find((r) => r.iid === 22)).toMatchObject({
      state: 'assigned',
      acceptedAt: null,
      hoursToAccept: null,
    });
  });

  it('times acceptance over the real acceptances of the period', () => {
    // E 25 h, A 119 h, F 169 h: median 119; p90 rank ⌈0.9 × 3⌉ = 3 → 169.
    expect(report.durations.accept).toEqual({ count: 3, medianHours: 119, p90Hours: 169 });
  });

  it('lists the not-qualified reasons of a request since closed by its author', () => {
    expect(report.topNotQualified).toEqual([{ text: expect.stringMatching(/ARR/), count: 1 }]);
  });

  it('lists the breaches that fell due in November, with the holiday skipped', () => {
    expect(report.breaches).toEqual([
      expect.objectContaining({
        kind: 'accept',
        iid: 22,
        since: '2026-11-16T15:05:00Z',
        due: '2026-11-18T15:05:00.000Z',
        resolvedAt: null,
        openAtEnd: true,
        lateBusinessDays: 7,
        lateHours: 296.9,
        waitedHours: 344.9,
      }),
      expect.objectContaining({
        kind: 'stale',
        iid: 25,
        since: '2026-11-04T17:00:00Z',
        due: '2026-11-18T17:00:00.000Z',
        resolvedAt: null,
        openAtEnd: true,
        lateBusinessDays: 7,
        lateHours: 295,
        waitedHours: 631,
      }),
    ]);
  });
});

describe('the reminders of Thu 3 Dec, 10:00 New York, over the same history', () => {
  const open = histories.filter((h) => h.open).map((history) => ({ history, checklist: null }));
  const plan = planReminders({ requests: open, sent: new Set(), config, now: new Date('2026-12-03T15:00:00Z') });
  const items = (who: string) =>
    plan.messages.find((m) => m.username === who)?.items.map((i) => [i.kind, i.iid, i.due, i.businessDaysLate]);

  it('reminds from the real clocks: the refused move did not restart B’s', () => {
    // B's accept due Wed 18 Nov 10:05 NY; by Thu 3 Dec 10:00 NY: Thu 19 .. Wed 25 (5), Fri 27 .. Wed 2
    // (6-9) → 9 business days late (Thursday's 10:05 has not come yet).
    expect(items('casey.cse')).toEqual([['accept', 22, '2026-11-18T15:05:00.000Z', 9]]);
    // E's stale due Wed 18 Nov 12:00 NY: 9 business days late the same way. A is not stale (Drew
    // accepted on the 30th); D, waiting on its author, is no SLA breach.
    expect(items('drew.cse')).toEqual([['stale', 25, '2026-11-18T17:00:00.000Z', 9]]);
    // Escalation due Thu 19 Nov 10:05 NY: Fri 20 .. Wed 25 (4), Fri 27 .. Wed 2 (5-8) → 8.
    expect(items('harper.mgr')).toEqual([['escalate', 22, '2026-11-19T15:05:00.000Z', 8]]);
    expect(plan.messages.map((m) => m.username)).toEqual(['casey.cse', 'drew.cse', 'harper.mgr']);
  });

  it('names the CSE who has not answered, and says how to clear each reminder', () => {
    const harper = plan.messages.find((m) => m.username === 'harper.mgr')!.items[0]!;
    expect(harper.text).toMatch(
      /^Casey Kim \(casey\.cse\) has not accepted or declined it 3 business days after assignment/,
    );
    expect(harper.action).toBe('have it answered, or hand it to another CSE with `@scale-bot reassign @name`');
    const drew = plan.messages.find((m) => m.username === 'drew.cse')!.items[0]!;
    expect(drew.action).toMatch(/^comment on the request with where it stands/);
  });
});

/** The sections of the rendered report the README shows, from `### Funnel` up to `### Top validation problems`, and the reasons table. */
function readmeSections(markdown: string): string {
  const between = (from: string, to: string) => markdown.slice(markdown.indexOf(from), markdown.indexOf(to)).trim();
  return `${between('### Funnel', '### CSE workload')}\n\n${between('### SLA breaches', '### Top validation problems')}\n\n${between('### Top reasons for not qualifying', '### Requests at risk')}`;
}

describe('the README’s example report', () => {
  it('is this seeded history’s report, as rendered', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const block = /<!-- example-report:start -->\n```markdown\n([\s\S]*?)\n```\n<!-- example-report:end -->/.exec(
      readme,
    );
    expect(block, 'README.md has the example report block').not.toBeNull();
    expect(block![1]).toBe(readmeSections(renderReport(report).markdown));
  });
});
