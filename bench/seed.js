// The requests bench/report.js and bench/simulate.js seed the fake GitLab with: the four sample
// descriptions in turn, each with its own customer name and Salesforce id, and which CSE holds the
// ones that qualify. Also the median both report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const SAMPLES = [
  'mm-amr-valid.md',
  'ent-amr-valid.md',
  'smbeast-amr-missing-fields.md',
  'smbwest-amr-over-range.md',
].map((f) => [f, readFileSync(join(ROOT, 'samples', 'requests', f), 'utf8')]);

/** Who holds the requests of the samples that qualify (the others are needs-info or not-qualified). */
export const CSES = { 'mm-amr-valid.md': 'drew.cse', 'ent-amr-valid.md': 'casey.cse' };

/** Request `i`: its sample file and description (customer `Customer i`, a Salesforce id made from `i`). */
export function seededRequest(i) {
  const [file, text] = SAMPLES[i % SAMPLES.length];
  const description = text
    .replace(/Northwind Traders|Contoso|Blue Harbor[^\n]*|Fabrikam[^\n]*/g, `Customer ${i}`)
    .replace(/001[A-Za-z0-9]{12}/g, `001${String(i).padStart(12, '0')}`);
  return { file, description, cse: CSES[file] };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
