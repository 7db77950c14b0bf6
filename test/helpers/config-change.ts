import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG_PATH } from '../../src/config/load-config.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { startFakeGitLab, type FakeGitLab } from '../../src/fake-gitlab/server.js';
import { projectLabels } from '../e2e/stack.js';
import { exampleConfig } from './config.js';

/** Configuration changes under review by `simulate`, and a request project to judge them on. */

export const sample = (name: string) => readFileSync(join(PACKAGE_ROOT, 'samples', 'requests', name), 'utf8');
export const bundled = readFileSync(join(PACKAGE_ROOT, DEFAULT_CONFIG_PATH), 'utf8');
/** The change under review: a lower Mid-Market ceiling, and the mm/amr pool rotating in turn. */
export const lowerCeilingRoundRobin = bundled
  .replace(
    'mm: { name: Mid-Market, arr: { min: 30000, max: 250000 } }',
    'mm: { name: Mid-Market, arr: { min: 30000, max: 150000 } }',
  )
  .replace('{ segment: mm, region: amr, strategy: least-loaded,', '{ segment: mm, region: amr, strategy: round-robin,');
/** A released version renumbered in place: open v2 requests would no longer be recognised. */
export const v2Dropped = bundled.replace(/(  mm_amr:\n[\s\S]*?    versions:\n      - version: )2/, '$13');
let accounts = 0;
/** A Mid-Market request for its own account (no duplicates, no engagement limit). */
export const mmRequest = (customer: string, arr: string) =>
  `${sample('mm-amr-valid.md')
    .replaceAll('Northwind Traders', customer)
    .replace('0014M00001lAbCdQAK', `0014M0000${String(++accounts).padStart(2, '0')}AbCdQAK`)
    .replace('$210k', arr)}\n/label ~"segment::mm" ~"region::amr"\n`;

/** The request project with three requests a manager assigned: drew.cse holds two, casey.cse one (the newest). */
export async function requestProject(): Promise<{ fake: FakeGitLab; env: Record<string, string> }> {
  const fake = await startFakeGitLab({ labels: projectLabels(exampleConfig()) });
  const env = { GITLAB_URL: fake.url, GITLAB_TOKEN: fake.botToken, GITLAB_PROJECT: fake.project.path_with_namespace };
  for (const cse of ['drew.cse', 'drew.cse', 'casey.cse']) {
    const held = await fake.as('harper.mgr').createIssue({
      title: `Held by ${cse}`,
      description: mmRequest(`Held ${cse}`, '$100k'),
      labels: ['engagement::assigned'],
    });
    await fake.as('harper.mgr').editIssue(held.iid, { assignees: [cse] });
  }
  return { fake, env };
}

/** Version 2 of the Mid-Market form edited in place (a required field added to it): open v2 requests would suddenly be incomplete. */
export const v2EditedInPlace = bundled.replace(
  '      - version: 2\n        fields: [{ fieldset: request }, { fieldset: attestations }]',
  '      - version: 2\n        fields: [{ fieldset: request }, { field: solutions_architect, required: true }, { fieldset: attestations }]',
);

/**
 * Three new Mid-Market requests by alex.ae that `lowerCeilingRoundRobin` decides differently:
 * Contoso ($100k) and Tailspin ($90k) are routed by the rotation, Fabrikam ($210k) is over the new ceiling.
 */
export async function threeMmRequests(fake: FakeGitLab) {
  const ae = fake.as('alex.ae');
  const cheap = await ae.createIssue({ title: 'Contoso', description: mmRequest('Contoso', '$100k') });
  const big = await ae.createIssue({ title: 'Fabrikam', description: mmRequest('Fabrikam', '$210k') });
  const other = await ae.createIssue({ title: 'Tailspin', description: mmRequest('Tailspin', '$90k') });
  return { cheap, big, other };
}
