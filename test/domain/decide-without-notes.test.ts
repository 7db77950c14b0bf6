import { describe, expect, it } from 'vitest';
import { decide } from '../../src/domain/decide.js';
import { readRequest } from '../../src/domain/read-request.js';
import { renderNote } from '../../src/render/notes.js';
import { exampleConfig } from '../helpers/config.js';
import { issueSnapshot, sampleRequest } from '../helpers/issue-snapshot.js';

describe('decide without notes (render null, as simulate asks)', () => {
  it.each([
    ['a valid request', sampleRequest('mm-amr-valid.md')],
    ['an incomplete one', sampleRequest('smbeast-amr-missing-fields.md')],
    ['an issue made from no form', 'Please help with onboarding, thanks'],
  ])('%s: the same decision, labels and assignees, and no note', (_name, description) => {
    const config = exampleConfig();
    const issue = issueSnapshot({ description });
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
