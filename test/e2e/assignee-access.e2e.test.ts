import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleConfig } from '../helpers/config.js';
import { startStack, type Stack, stopStackAfterEach } from './stack.js';

/**
 * GitLab assigns only users who can read the project's issues (`filter_assignees_using_checks` in
 * app/services/issuable_base_service.rb); for anyone else `assignee_ids` is dropped and the PUT
 * answers 200 with the assignees unchanged. A CSE of the configuration who is no member of the
 * (private) request project cannot be assigned.
 */

const SAMPLE = readFileSync(join(import.meta.dirname, '..', '..', 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
const REQUEST = `${SAMPLE.trimEnd()}\n\n/label ~"segment::mm" ~"region::amr"\n`;

let stack: Stack | null = null;
stopStackAfterEach(() => {
  const started = stack;
  stack = null;
  return started;
});

describe('a routed CSE GitLab cannot assign (no member of the project)', () => {
  it('is never reported as assigned: the pass stops before any note and is dead-lettered with the reason', async () => {
    stack = await startStack(exampleConfig());
    // drew.cse leads the mm/amr pool (least-loaded, first on a tie) but has left the project.
    stack.fake.removeMember('drew.cse');
    const created = await stack.fake.as('alex.ae').createIssue({ title: 'Northwind', description: REQUEST });
    await stack.drain();
    expect(stack.fake.issue(created.iid).assignees).toEqual([]);
    // Before: "**Assigned to @drew.cse**" in the request note, and nobody working on the request.
    expect(stack.fake.botNotes(created.iid).filter((n) => n.body.includes('drew.cse'))).toEqual([]);
    const failed = await stack.service.inbox!.list({ failed: true });
    expect(failed.map((j) => j.issue.iid)).toEqual([created.iid]);
    expect(failed[0]!.lastError).toContain('GitLab did not assign drew.cse');
  });
});
