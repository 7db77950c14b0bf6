import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import { exampleConfig } from '../helpers/config.js';
import { startStack, type Stack, stopStackAfterEach } from './stack.js';

/**
 * GitLab runs quick actions in an edited note too (`Notes::UpdateService` calls
 * `QuickActionsService#execute` on the whole new text, as the editor), and the fake now does so.
 * So every edit of the bot's note, by the bot or by a person ticking a box in it, would run any
 * command line the note holds. Hostile values sit in every field the note echoes; each value is
 * indented by one space in the description, so it is no quick action of the author's own (GitLab
 * needs the `/` at column 0) while the bot still reads it as the field's value.
 */

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples', 'requests');
const VALID = readFileSync(join(SAMPLES, 'mm-amr-valid.md'), 'utf8');
const withLabels = (description: string) => `${description.trimEnd()}\n\n/label ~"segment::mm" ~"region::amr"\n`;

let stack: Stack | null = null;
stopStackAfterEach(() => {
  const started = stack;
  stack = null;
  return started;
});

const requestNote = (s: Stack, iid: number) =>
  s.fake.botNotes(iid).find((n) => readNoteMarker(n.body)?.key === 'request')!;

/** What a quick action could change, to compare before and after an edit of the bot's note. */
const issueFacts = (s: Stack, iid: number) => {
  const issue = s.fake.issue(iid);
  return { state: issue.state, labels: [...issue.labels].sort(), assignees: issue.assignees.map((a) => a.username) };
};

/** The bot's PUTs of its own note since `from` (proof that the edit path ran). */
const botNoteEdits = (s: Stack, iid: number) =>
  s.fake
    .callsBy(s.fake.botUsername)
    .filter((c) => c.method === 'PUT' && new RegExp(`/issues/${iid}/notes/\\d+$`).test(c.path));

describe('no quick action ever runs from the bot note, created or edited (GitLab runs them on edits)', () => {
  it('needs-info: hostile lines in every echoed field, then a second request makes the bot edit its note', async () => {
    stack = await startStack(exampleConfig());
    // Each value is a command at column 0. In a new issue's description GitLab leaves these as text
    // (`/close`, `/reopen`, `/unassign`, `/relabel`, `/unlabel` need a persisted issue).
    const hostile = VALID.replace('$210k', '/close')
      .replace('$450,000', '/reopen')
      .replace('\n400\n', '\n/unassign @drew.cse\n')
      .replace('Jan 31, 2027', '/relabel ~"engagement::declined"')
      .replace('Next two weeks', '/unlabel ~"engagement::needs-info"');
    const created = await stack.fake.as('alex.ae').createIssue({ title: 'Evil', description: withLabels(hostile) });
    await stack.drain();
    const first = requestNote(stack, created.iid).body;
    // Not vacuous: the note echoes the hostile values (made inert).
    for (const echoed of ['/close', '/reopen', '/unassign', '/relabel']) expect(first).toContain(echoed);
    const before = issueFacts(stack, created.iid);
    expect(before.state).toBe('opened');
    expect(before.labels).toContain('engagement::needs-info');

    // A second request for the same account: the bot edits the first one's note to list it.
    await stack.fake.as('alex.ae').createIssue({ title: 'Northwind again', description: withLabels(VALID) });
    await stack.drain();
    expect(botNoteEdits(stack, created.iid)).toHaveLength(1);
    expect(requestNote(stack, created.iid).body).toContain('Other open requests for this account');
    expect(issueFacts(stack, created.iid)).toEqual({
      ...before,
      labels: [...before.labels, 'possible-duplicate'].sort(),
    });
    expect(stack.fake.violations).toEqual([]);
  });

  it('engaged: hostile customer, contacts and a duplicate title in the tracker, then accepted and a box ticked by a Maintainer', async () => {
    stack = await startStack(exampleConfig());
    // Another open request for the account: its title is listed in the note.
    await stack.fake.as('alex.ae').createIssue({ title: '/close /unassign @drew.cse', description: withLabels(VALID) });
    await stack.drain();
    const hostile = VALID.replace('Northwind Traders', '/close')
      .replace('- Dana Smith, Head of Platform', ' /unassign @drew.cse\n- Dana Smith, Head of Platform')
      .replace('Adoption stalled', ' /reopen\nAdoption stalled');
    const created = await stack.fake.as('alex.ae').createIssue({ title: 'Evil', description: withLabels(hostile) });
    await stack.drain();
    const cse = stack.fake.issue(created.iid).assignees[0]!.username;
    await stack.fake.as(cse).editIssue(created.iid, { addLabels: ['engagement::accepted'] });
    await stack.drain();
    const tracker = requestNote(stack, created.iid);
    const before = issueFacts(stack, created.iid);
    expect(before).toMatchObject({ state: 'opened', assignees: [cse] });
    expect(before.labels).toContain('engagement::accepted');
    expect(tracker.body).toContain('- [ ] CTA created');
    expect(tracker.body).toContain('/close'); // the customer, echoed (inert)
    expect(tracker.body).toContain('/close /unassign'); // the other request's title
    const editsBefore = botNoteEdits(stack, created.iid).length;

    // A Maintainer ticks a box: GitLab runs the whole note's quick actions as the Maintainer.
    await stack.fake
      .as('harper.mgr')
      .editComment(created.iid, tracker.id, tracker.body.replace('- [ ] CTA created', '- [x] CTA created'));
    await stack.drain();
    expect(requestNote(stack, created.iid).body).toContain('- [x] CTA created');
    expect(issueFacts(stack, created.iid)).toEqual(before);
    // The bot's own edit (the tick recorded in its memory) ran no quick action either.
    expect(botNoteEdits(stack, created.iid).length).toBeGreaterThan(editsBefore);
    expect(issueFacts(stack, created.iid)).toEqual(before);
    expect(stack.fake.violations).toEqual([]);
  });
});
