import { describe, expect, it } from 'vitest';
import { CHECKLIST_NAMES, checklistItemsNamed } from '../../src/domain/checklist-commands.js';
import { CHECKLIST } from '../../src/domain/checklist.js';

const [CTA, HELD, LOGGED, EMAIL] = CHECKLIST;

describe('checklistItemsNamed: forgiving names for the tracker checklist', () => {
  it('finds each item by its listed short name and by its full text', () => {
    for (const item of CHECKLIST) {
      expect(checklistItemsNamed(CHECKLIST_NAMES[item]!)).toEqual({ items: [item] });
      expect(checklistItemsNamed(item)).toEqual({ items: [item] });
    }
  });

  it.each([
    ['CTA', [CTA]],
    ['call held.', [HELD]],
    ['held', [HELD]],
    ['Logged', [LOGGED]],
    ['follow-up', [EMAIL]],
    ['followup', [EMAIL]],
    ['follow up email', [EMAIL]],
    ['callheld', [HELD]],
    ['email, cta', [CTA, EMAIL]],
    ['all', [...CHECKLIST]],
  ])('%s', (name, items) => {
    expect(checklistItemsNamed(name)).toEqual({ items });
  });

  it.each([
    ['call', /"call" could be `call held` or `call logged`/],
    ['up', /"up" is not an item/],
    [
      'banana',
      /"banana" is not an item of the checklist; name one of `cta`, `call held`, `call logged`, `email` or `all`/,
    ],
    ['', /^name the item/],
    ['cta, nonsense', /"nonsense" is not an item/],
  ])('%j is refused with the names to use', (name, error) => {
    const result = checklistItemsNamed(name);
    expect('error' in result && result.error).toMatch(error);
  });
});
