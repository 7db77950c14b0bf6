import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/domain/decide.js';
import { readRequest } from '../../src/domain/read-request.js';
import type { IssueSnapshot } from '../../src/domain/snapshot.js';
import { renderNote } from '../../src/render/notes.js';
import { exampleConfig } from '../helpers/config.js';

const sample = (name: string) =>
  readFileSync(join(import.meta.dirname, '..', '..', 'samples', 'requests', name), 'utf8');

function snapshot(description: string): IssueSnapshot {
  return {
    iid: 7,
    title: 'Scale request',
    description,
    state: 'opened',
    author: 'alex.ae',
    labels: ['segment::mm', 'region::amr'],
    assignees: [],
    webUrl: 'https://gitlab.example/sales/requests/-/issues/7',
    createdAt: '2026-11-22T09:00:00Z',
    closedAt: null,
    closedBy: null,
    botNotes: [],
    humanNotes: [],
    assignedBy: {},
    labelEvents: null,
  };
}

describe('decide without notes (render null, as simulate asks)', () => {
  it.each([
    ['a valid request', sample('mm-amr-valid.md')],
    ['an incomplete one', sample('smbeast-amr-missing-fields.md')],
    ['an issue made from no form', 'Please help with onboarding, thanks'],
  ])('%s: the same decision, labels and assignees, and no note', (_name, description) => {
    const config = exampleConfig();
    const issue = snapshot(description);
    const input = {
      issue,
      request: readRequest(issue, config),
      related: [],
      workload: { open: {}, lastAssigned: {} },
      botUsername: 'scale-bot',
    };
    const now = new Date('2026-11-22T10:00:00Z');
    const full = decide(input, config, now, renderNote);
    const bare = decide(input, config, now, null);
    expect(full.notes.length).toBeGreaterThan(0);
    expect(bare.notes).toEqual([]);
    const { notes: _full, ...withNotes } = full;
    const { notes: _bare, ...withoutNotes } = bare;
    expect(withoutNotes).toEqual(withNotes);
  });
});
