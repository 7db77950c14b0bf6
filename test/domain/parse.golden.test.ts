import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/domain/parse.js';
import type { ParsedRequest } from '../../src/domain/request.js';
import { exampleConfig } from '../helpers/config.js';

/**
 * Golden cases: test/fixtures/<form>/<case>/ holds description.md (an issue description, usually a
 * filled-in generated template), expected.json (the whole ParsedRequest) and optionally labels.json
 * (the labels). Each expected.json states what the parser SHOULD return.
 */
const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures');

interface GoldenCase {
  name: string;
  description: string;
  labels: string[] | undefined;
  expected: ParsedRequest;
}

function loadCases(): GoldenCase[] {
  const cases: GoldenCase[] = [];
  for (const form of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!form.isDirectory()) continue;
    for (const entry of readdirSync(join(FIXTURES, form.name), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(FIXTURES, form.name, entry.name);
      const labelsFile = join(dir, 'labels.json');
      cases.push({
        name: `${form.name}/${entry.name}`,
        description: readFileSync(join(dir, 'description.md'), 'utf8'),
        labels: existsSync(labelsFile) ? (JSON.parse(readFileSync(labelsFile, 'utf8')) as string[]) : undefined,
        expected: JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as ParsedRequest,
      });
    }
  }
  return cases.sort((a, b) => a.name.localeCompare(b.name));
}

const cases = loadCases();

describe('golden descriptions', () => {
  it('has enough cases that the suite cannot silently run none', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it('covers every form in the example configuration', () => {
    const formsWithCases = new Set(cases.map((c) => c.name.split('/')[0]));
    for (const form of exampleConfig().forms) expect(formsWithCases).toContain(form.id);
  });

  it.each(cases)('$name', ({ description, labels, expected }) => {
    const result = parse(description, exampleConfig().catalog, labels ? { labels } : {});
    expect(result).toEqual(expected);
  });
});
