import { describe, expect, it } from 'vitest';
import { needsLabelHistory, type LifecycleMemory } from '../../src/domain/lifecycle.js';

describe('needsLabelHistory', () => {
  const cases: ReadonlyArray<[string, string | null, LifecycleMemory, 'opened' | 'closed', boolean]> = [
    // [description, label state, the bot's memory, issue state, load the history?]
    ['a new request, no engagement label yet', null, {}, 'opened', false],
    ['a new request the bot labelled', 'assigned', { state: 'assigned' }, 'opened', false],
    ['nothing moved since the last pass', 'accepted', { state: 'accepted' }, 'opened', false],
    ['a person moved the label', 'accepted', { state: 'assigned' }, 'opened', true],
    ['intake moved between its own states', 'needs-info', { state: 'new' }, 'opened', false],
    ['a person took it back to an intake state', 'assigned', { state: 'accepted' }, 'opened', true],
    ['no record of a request people took further (note deleted)', 'completed', {}, 'opened', true],
    ['no record of a request still in intake', 'assigned', {}, 'opened', false],
    ['closed by a person', 'accepted', { state: 'accepted' }, 'closed', true],
    ['closed by the bot', 'completed', { state: 'completed', closed: true }, 'closed', false],
    ['reopened after the bot closed it', 'completed', { state: 'completed', closed: true }, 'opened', false],
  ];
  it.each(cases)('%s', (_description, labelState, memory, issueState, expected) => {
    expect(needsLabelHistory(labelState, memory, issueState)).toBe(expected);
  });
});
