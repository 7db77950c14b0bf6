import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestHistory } from '../../src/domain/request-history.js';
import type { IssueRecord, LabelEvent } from '../../src/domain/snapshot.js';
import { exampleConfig } from '../helpers/config.js';
import { REPO_ROOT } from '../cli/run-cli.js';

const sample = (name: string) => readFileSync(join(REPO_ROOT, 'samples', 'requests', name), 'utf8');
const config = exampleConfig();
let id = 1;
const ev = (label: string, action: 'add' | 'remove', at: string, user = 'scale-bot'): LabelEvent => ({
  id: id++,
  user,
  createdAt: at,
  label,
  action,
});
const issue = (p: Partial<IssueRecord>): IssueRecord => ({
  iid: 7,
  title: 'Northwind',
  description: sample('mm-amr-valid.md'),
  state: 'opened',
  author: 'alex.ae',
  labels: [],
  assignees: [],
  webUrl: 'https://gitlab.example/g/p/-/issues/7',
  createdAt: '2026-11-16T14:00:00Z',
  updatedAt: '2026-11-16T14:00:00Z',
  closedAt: null,
  ...p,
});

describe('requestHistory', () => {
  it('reads the first time each state was reached and since when the current one holds', () => {
    const h = requestHistory(
      issue({ labels: ['engagement::accepted', 'at-risk'], assignees: ['drew.cse'] }),
      [
        ev('engagement::assigned', 'add', '2026-11-16T14:05:00Z'),
        ev('engagement::accepted', 'add', '2026-11-17T15:00:00Z', 'drew.cse'),
        ev('engagement::assigned', 'remove', '2026-11-17T15:00:00Z', 'drew.cse'),
        // Sent back and accepted again: `reached` keeps the first time, `stateSince` the last.
        ev('engagement::assigned', 'add', '2026-11-18T09:00:00Z', 'harper.mgr'),
        ev('engagement::accepted', 'add', '2026-11-19T10:00:00Z', 'drew.cse'),
        ev('priority::high', 'add', '2026-11-16T14:05:00Z'),
      ],
      config,
      '2026-11-24',
    );
    expect(h).toMatchObject({
      form: { id: 'mm_amr', version: 2 },
      segment: 'mm',
      region: 'amr',
      customer: 'Northwind Traders',
      renewalDate: '2027-01-31',
      atRisk: true,
      open: true,
      state: 'accepted',
      stateSince: '2026-11-19T10:00:00Z',
      reached: { assigned: '2026-11-16T14:05:00Z', accepted: '2026-11-17T15:00:00Z' },
      problems: [],
      notQualified: [],
    });
  });

  it('lists validation problems as words, and the failed gates of a not-qualified request', () => {
    const missing = requestHistory(
      issue({ description: sample('smbeast-amr-missing-fields.md'), labels: ['engagement::needs-info'] }),
      [],
      config,
      '2026-11-24',
    );
    expect(missing.problems).toContain('Deployment: missing');
    expect(missing.problems).toContain('Customer awareness: not confirmed');
    const over = requestHistory(
      issue({
        description: sample('smbwest-amr-over-range.md'),
        author: 'jordan.ae',
        labels: ['engagement::not-qualified'],
      }),
      [],
      config,
      '2026-11-24',
    );
    expect(over.state).toBe('not-qualified');
    expect(over.notQualified).toEqual([expect.stringMatching(/ARR/)]);
  });

  it('is no request when no form is recognised, and has no state without an engagement label', () => {
    const h = requestHistory(issue({ description: 'How do I cache node_modules?' }), [], config, '2026-11-24');
    expect(h.form).toBeNull();
    expect(h.state).toBeNull();
    expect(h.stateSince).toBeNull();
  });
});
