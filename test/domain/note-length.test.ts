import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestAccount } from '../../src/domain/account.js';
import { readRequest } from '../../src/domain/read-request.js';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import { decide, type DecideInput } from '../../src/domain/decide.js';
import type { Plan } from '../../src/domain/plan.js';
import type { IssueSnapshot, RelatedIssue } from '../../src/domain/snapshot.js';
import { NOTE_MAX_CHARS } from '../../src/domain/text-limits.js';
import { renderNote } from '../../src/render/notes.js';
import { exampleConfig } from '../helpers/config.js';
import { issueSnapshot, sampleRequest } from '../helpers/issue-snapshot.js';

/**
 * Issue #16, point 5: what people type is echoed cut to its field's limit, without invisible
 * characters, and no note the bot writes outgrows GitLab's 1,000,000-character limit.
 */

const SAMPLE = sampleRequest('mm-amr-valid.md');
const NOW = new Date('2026-11-22T10:00:00Z');
const withCustomer = (name: string) => SAMPLE.replace('Northwind Traders', name);

function run(s: IssueSnapshot, extra: Partial<DecideInput> = {}, render = renderNote): Plan {
  return decide(
    {
      issue: s,
      request: readRequest(s, exampleConfig()),
      related: [],
      workload: { open: {}, lastAssigned: {} },
      botUsername: 'scale-bot',
      ...extra,
    },
    exampleConfig(),
    NOW,
    render,
  );
}

let nextId = 1000;
/** GitLab after the plan: labels, assignees and notes as written. */
function applied(s: IssueSnapshot, plan: Plan): IssueSnapshot {
  const removed = new Set(plan.labels.remove.map((l) => l.toLowerCase()));
  const botNotes = [...s.botNotes];
  for (const n of plan.notes) {
    const marker = readNoteMarker(n.body)!;
    const note = {
      id: n.action === 'create' ? nextId++ : n.noteId,
      key: marker.key,
      body: n.body,
      state: marker.state,
    };
    if (n.action === 'create') botNotes.push(note);
    else botNotes[botNotes.findIndex((b) => b.id === n.noteId)] = note;
  }
  const labels = [...s.labels.filter((l) => !removed.has(l.toLowerCase())), ...plan.labels.add];
  return {
    ...s,
    labels,
    assignees: plan.assignees ?? s.assignees,
    botNotes,
    ...(plan.stateEvent === 'close' ? { state: 'closed' as const } : {}),
  };
}

const comment = (s: IssueSnapshot, body: string): IssueSnapshot => ({
  ...s,
  humanNotes: [...s.humanNotes, { id: nextId++, author: 'drew.cse', body, createdAt: '2026-11-22T12:00:00Z' }],
});
const requestNote = (plan: Plan) => plan.notes.find((n) => n.key === 'request')!.body;

describe('echoed values are cut to their field limit', () => {
  it('a 990 KB customer name (maxLength 120) shows as its first 119 characters and an ellipsis, and the problem is reported', () => {
    const name = 'Northwind '.repeat(99_000).trim();
    const body = requestNote(run(issueSnapshot({ description: withCustomer(name) })));
    expect(body).toContain(`### Scale engagement request: ${name.slice(0, 119)}…\n`);
    expect(body).toContain('**Customer name**: keep it under 120 characters');
    // Was 996,621 characters before the cut.
    expect(body.length).toBeLessThan(20_000);
  });

  it('a name of 200,000 `&` (each escaped to 6 characters) makes a short note, not one GitLab refuses', () => {
    const body = requestNote(run(issueSnapshot({ description: withCustomer('&'.repeat(200_000)) })));
    expect(body.length).toBeLessThan(20_000);
    expect(body).toContain(`${'&amp;\u200B'.repeat(119)}…`);
  });

  it('a valid name within its limit is shown whole', () => {
    const name = 'N'.repeat(120);
    const plan = run(issueSnapshot({ description: withCustomer(name) }));
    expect(requestNote(plan)).toContain(`### Scale engagement request: ${name}\n`);
    expect(plan.notes.find((n) => n.key.startsWith('assigned-'))?.body ?? requestNote(plan)).toContain(name);
  });
});

describe('echoed text shows what it holds', () => {
  it('bidirectional overrides and zero-width characters are stripped: "Evil\\u202Egnp.exe" reads "Evilgnp.exe", not "Evilexe.png"', () => {
    const body = requestNote(
      run(issueSnapshot({ description: withCustomer('Evil\u202Egnp.exe Tra\u200Bders\u2066') })),
    );
    expect(body).toContain('### Scale engagement request: Evilgnp.exe Traders\n');
    expect(body).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u2060\uFEFF]/);
  });
});

describe("every note stays under GitLab's limit", () => {
  it('120 other open requests of the account: a hundred listed by name in each list, the rest counted', () => {
    const related: RelatedIssue[] = Array.from({ length: 120 }, (_, i) => ({
      iid: 100 + i,
      title: '&'.repeat(255),
      account: requestAccount(readRequest({ description: SAMPLE, labels: [] }, exampleConfig()), exampleConfig()),
      state: 'opened',
      labels: [],
      webUrl: `https://gitlab.example/sales/requests/-/issues/${100 + i}`,
      createdAt: '2026-11-01T09:00:00Z',
    }));
    const body = requestNote(run(issueSnapshot(), { related }));
    expect(body.length).toBeLessThan(NOTE_MAX_CHARS / 2);
    // Open duplicates, and the account's history (which is over the limit of requests).
    expect(body.match(/^- \[.*\]\(https:\/\/gitlab\.example\/sales\/requests\/-\/issues\/\d+\)$/gm)).toHaveLength(200);
    expect(body.match(/\n- and 20 more\n/g)).toHaveLength(2);
    expect(body).toContain('this account already had 120 requests');
  });

  it('a command name of 900,000 letters gets a short answer', () => {
    const assigned = applied(issueSnapshot(), run(issueSnapshot()));
    const plan = run(comment(assigned, `@scale-bot ${'x'.repeat(900_000)}`));
    const reply = plan.notes.find((n) => n.key.startsWith('reply-'))!.body;
    expect(reply).toContain(`I do not know \`${'x'.repeat(999)}…\``);
    expect(reply.length).toBeLessThan(5_000);
  });

  it('a decline reason of 900,000 characters reaches the author cut, in one note GitLab accepts', () => {
    const assigned = applied(issueSnapshot(), run(issueSnapshot()));
    const accepted = applied(assigned, run(comment(assigned, '@scale-bot accept')));
    const plan = run(comment(accepted, `@scale-bot decline ${'@all '.repeat(180_000)}`));
    const note = plan.notes.find((n) => n.key.startsWith('declined-'))!.body;
    expect(note).toContain('Reason: @\u200Ball @\u200Ball');
    expect(note.length).toBeLessThan(5_000);
    expect(plan.stateEvent).toBe('close');
  });

  it('a note that would still be too long is cut at a line, keeps its marker, and is not rewritten on the next pass', () => {
    const huge = () => `${'a line the templates could make\n'.repeat(40_000)}end`;
    const first = run(issueSnapshot(), {}, huge);
    const body = requestNote(first);
    expect(body.length).toBeLessThanOrEqual(NOTE_MAX_CHARS);
    expect(body).toMatch(/\*\(Cut here: GitLab takes at most 1,000,000 characters\.\)\*$/);
    expect(readNoteMarker(body)?.key).toBe('request');
    const second = run(applied(issueSnapshot(), first), {}, huge);
    expect(second.notes.filter((n) => n.key === 'request')).toEqual([]);
  });

  it('whatever people type into the request and their comments, every note fits and shows no hidden character', () => {
    const hostile = fc.constantFrom('&', '@all ', '<', '`', '\u202E', '\u200B', 'a', '#1 ', '\n', '|', '🙂');
    const long = fc.tuple(hostile, fc.integer({ min: 0, max: 300_000 })).map(([unit, n]) => unit.repeat(n));
    fc.assert(
      fc.property(
        long,
        long,
        fc.integer({ min: 0, max: 40 }),
        fc.string({ unit: hostile, maxLength: 255 }),
        (customer, words, relatedCount, title) => {
          const account = requestAccount(
            readRequest({ description: withCustomer(customer), labels: [] }, exampleConfig()),
            exampleConfig(),
          );
          const related: RelatedIssue[] = Array.from({ length: relatedCount }, (_, i) => ({
            iid: 100 + i,
            title,
            account,
            state: i % 2 ? 'opened' : 'closed',
            labels: [],
            webUrl: `https://gitlab.example/sales/requests/-/issues/${100 + i}`,
            createdAt: '2026-11-01T09:00:00Z',
          }));
          const issue = issueSnapshot({ description: withCustomer(customer), title });
          const first = run(issue, { related });
          const after = comment(
            comment(applied(issue, first), `@scale-bot ${words.replace(/[^a-z]/g, '') || 'x'}`),
            `@scale-bot schedule ${words}`,
          );
          for (const plan of [first, run(after, { related })]) {
            for (const note of plan.notes) {
              expect(note.body.length).toBeLessThanOrEqual(NOTE_MAX_CHARS);
              expect(note.body).not.toContain('\u202E');
              expect(note.body).not.toContain('Cut here');
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
