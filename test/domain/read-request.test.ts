import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load-config.js';
import { accountsAlike } from '../../src/domain/account.js';
import { readsAlike } from '../../src/domain/read-request.js';
import { bundled, lowerCeilingRoundRobin, v2EditedInPlace } from '../helpers/config-change.js';

/** `simulate` reads a description once for both configurations only when they would read it alike. */

const config = (text: string) => parseConfigText(text, 'test.yml');

describe('readsAlike and accountsAlike', () => {
  it('two configurations with the same forms and form label scopes read alike, whatever else differs', () => {
    expect(readsAlike(config(bundled), config(lowerCeilingRoundRobin))).toBe(true);
    expect(accountsAlike(config(bundled), config(lowerCeilingRoundRobin))).toBe(true);
  });

  it('a form changed, or the segment or region labels under another scope, do not', () => {
    const base = config(bundled);
    expect(readsAlike(base, config(v2EditedInPlace))).toBe(false);
    const otherSegments = config(bundled.replace('  segment: segment\n', '  segment: tier\n'));
    expect(readsAlike(base, otherSegments)).toBe(false);
    const otherRegions = config(bundled.replace('  region: region\n', '  region: geo\n'));
    expect(readsAlike(base, otherRegions)).toBe(false);
  });

  it('accounts read from another field are not named alike, though the forms read alike', () => {
    const base = config(bundled);
    const byCustomerOnly = config(`${bundled}\nfieldMap:\n  crmAccount: customer_name\n`);
    expect(readsAlike(base, byCustomerOnly)).toBe(true);
    expect(accountsAlike(base, byCustomerOnly)).toBe(false);
  });
});
