import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IssueSnapshot } from '../../src/domain/snapshot.js';

/** A sample request from `samples/requests/`, as an AE would file it. */
export const sampleRequest = (name: string): string =>
  readFileSync(join(import.meta.dirname, '..', '..', 'samples', 'requests', name), 'utf8');

/** A freshly opened Mid-Market AMR issue with no notes yet, filed from the valid sample unless overridden. */
export function issueSnapshot(overrides: Partial<IssueSnapshot> = {}): IssueSnapshot {
  return {
    iid: 7,
    title: 'Scale request',
    description: sampleRequest('mm-amr-valid.md'),
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
    ...overrides,
  };
}
