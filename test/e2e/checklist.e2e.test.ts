import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import { exampleConfig } from '../helpers/config.js';
import { startStack, type Stack, stopStackAfterEach } from './stack.js';

/**
 * The post-call checklist against a fake GitLab that follows GitLab on who may edit a note (its
 * author or a Maintainer: a Reporter gets 403) and on the hook an edit fires (the note's author
 * as `user`, the editor in `updated_by_id`). In the fake's roster drew.cse is a Reporter and the
 * assigned CSE of the mm/amr request, harper.mgr a Maintainer.
 */

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples', 'requests');
const REQUEST = `${readFileSync(join(SAMPLES, 'mm-amr-valid.md'), 'utf8').trimEnd()}\n\n/label ~"segment::mm" ~"region::amr"\n`;

let stack: Stack | null = null;
stopStackAfterEach(() => {
  const started = stack;
  stack = null;
  return started;
});

const trackerOf = (s: Stack, iid: number) =>
  s.fake.botNotes(iid).find((n) => readNoteMarker(n.body)?.key === 'request')!;
const nextStep = (s: Stack, iid: number) => /\*\*Next step:\*\* (.*)/.exec(trackerOf(s, iid).body)?.[1];

/** A request filed by the AE and accepted by the CSE the bot assigned. */
async function acceptedRequest(s: Stack): Promise<{ iid: number; cse: string }> {
  const { iid } = await s.fake.as('alex.ae').createIssue({ title: 'Northwind', description: REQUEST });
  await s.drain();
  const cse = s.fake.issue(iid).assignees[0]!.username;
  await s.fake.as(cse).editIssue(iid, { addLabels: ['engagement::accepted'] });
  await s.drain();
  return { iid, cse };
}

/** The first request of a fresh stack goes to drew.cse, a Reporter. */
async function acceptedByReporter(s: Stack): Promise<number> {
  const { iid, cse } = await acceptedRequest(s);
  expect(cse).toBe('drew.cse');
  return iid;
}

describe('the checklist end to end (GitLab note permissions and edit hooks)', () => {
  it('labelled completed first, then a Maintainer ticks the last box in the bot note: closed with the summary on that one hint', async () => {
    stack = await startStack(exampleConfig());
    const iid = await acceptedByReporter(stack);
    await stack.fake.as('drew.cse').comment(iid, '@scale-bot done cta, call held, call logged');
    await stack.fake.as('drew.cse').editIssue(iid, { addLabels: ['engagement::completed'] });
    await stack.drain();
    expect(stack.fake.issue(iid).state).toBe('opened');
    expect(stack.fake.botNotes(iid).some((n) => n.body.includes('Still open: Follow-up email sent'))).toBe(true);

    const tracker = trackerOf(stack, iid);
    const sent = stack.fake.deliveries.length;
    await stack.fake
      .as('harper.mgr')
      .editComment(iid, tracker.id, tracker.body.replace('- [ ] Follow-up email sent', '- [x] Follow-up email sent'));
    await stack.drain();
    // GitLab's hook for the edit names the bot (the note's author); the bot still took it as a hint.
    const hint = stack.fake.deliveries[sent]!;
    expect(hint.payload).toMatchObject({
      object_kind: 'note',
      user: { username: 'scale-bot' },
      object_attributes: { action: 'update', updated_by_id: stack.fake.addUser('harper.mgr').id },
    });
    expect(hint.status).toBe(202);
    const issue = stack.fake.issue(iid);
    expect(issue.state).toBe('closed');
    expect(issue.labels).toContain('engagement::completed');
    const summary = stack.fake.botNotes(iid).find((n) => readNoteMarker(n.body)?.key === 'completion');
    expect(summary?.body).toContain('@alex.ae, The engagement is complete and this request is closed.');
    expect(trackerOf(stack, iid).body).toContain('- [x] Follow-up email sent');
    expect(nextStep(stack, iid)).toMatch(/^None: the engagement is complete and the request closed\./);
  });

  it('a CSE with the Reporter role is refused editing the bot note (403, as GitLab) and completes the checklist by command', async () => {
    stack = await startStack(exampleConfig());
    const iid = await acceptedByReporter(stack);
    const tracker = trackerOf(stack, iid);
    stack.fake.addToken('drew-token', 'drew.cse');
    const refused = await fetch(
      `${stack.fake.apiUrl}/projects/${stack.fake.project.id}/issues/${iid}/notes/${tracker.id}`,
      {
        method: 'PUT',
        headers: { 'PRIVATE-TOKEN': 'drew-token', 'Content-Type': 'application/json' },
        body: JSON.stringify({ body: tracker.body.replace('- [ ] CTA created', '- [x] CTA created') }),
      },
    );
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ message: '403 Forbidden' });
    expect(trackerOf(stack, iid).body).toContain('- [ ] CTA created');

    await stack.fake.as('drew.cse').comment(iid, '@scale-bot done call');
    await stack.drain();
    const replies = () => stack!.fake.botNotes(iid).filter((n) => readNoteMarker(n.body)?.key.startsWith('reply-'));
    expect(replies().at(-1)!.body).toContain('"call" could be `call held` or `call logged`');
    await stack.fake.as('drew.cse').comment(iid, '@scale-bot done all');
    await stack.drain();
    expect(replies().at(-1)!.body).toContain('The checklist is complete.');
    expect(trackerOf(stack, iid).body).not.toContain('- [ ]');
    expect(stack.fake.issue(iid).state).toBe('opened');
    await stack.fake.as('drew.cse').comment(iid, '@scale-bot complete');
    await stack.drain();
    expect(stack.fake.issue(iid).state).toBe('closed');
    expect(stack.fake.issue(iid).labels).toContain('engagement::completed');
    expect(nextStep(stack, iid)).toMatch(/^None: the engagement is complete/);
  });

  it('every closed request has a next step that is true once closed (declined, withdrawn, closed by hand)', async () => {
    stack = await startStack(exampleConfig());
    const [declined, withdrawn, byHand] = [
      await acceptedRequest(stack),
      await acceptedRequest(stack),
      await acceptedRequest(stack),
    ];
    expect(nextStep(stack, declined.iid)).toContain('`@scale-bot done <item>`');
    await stack.fake.as(declined.cse).comment(declined.iid, '@scale-bot decline Customer chose Premium support');
    await stack.fake.as('alex.ae').comment(withdrawn.iid, '@scale-bot withdraw');
    await stack.fake.as(byHand.cse).closeIssue(byHand.iid);
    await stack.drain();
    for (const [{ iid }, state, step] of [
      [declined, 'declined', /^None: the request was declined and closed/],
      [withdrawn, 'withdrawn', /^None: the request was withdrawn and closed/],
      [byHand, 'closed-incomplete', /^None: the request was closed before completion/],
    ] as const) {
      const issue = stack.fake.issue(iid);
      expect([issue.state, issue.labels.filter((l) => l.startsWith('engagement::'))]).toEqual([
        'closed',
        [`engagement::${state}`],
      ]);
      expect(nextStep(stack, iid)).toMatch(step);
      expect(trackerOf(stack, iid).body).not.toContain('tick each item');
    }
  });
});
