import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from '../../src/domain/parse.js';
import { processIssue } from '../../src/worker/process-issue.js';
import { exampleConfig } from '../helpers/config.js';
import { startStack, type Stack } from '../e2e/stack.js';

// Every call of the parser, wherever it is made from: the work a pass does, counted exactly.
vi.mock('../../src/domain/parse.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/domain/parse.js')>();
  return { ...actual, parse: vi.fn(actual.parse) };
});

const sample = readFileSync(join(import.meta.dirname, '..', '..', 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
/** A large request: the template plus 100 KB of pasted notes. */
const large = `${sample.trimEnd()}\n\n### Anything else\n\n${'Usage notes pasted from the account review. '.repeat(2400)}\n`;
const DAY = 86_400_000;
const logger = pino({ level: 'silent' });

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.stop();
  stack = null;
});

describe("a pass and the account's history (issue #16: amplification through related requests)", () => {
  it.each([5, 40])(
    'with %i earlier large requests for the account, a pass parses its own description only',
    async (history) => {
      stack = await startStack(exampleConfig());
      const now = Date.now();
      // Earlier requests for the same account, half of them still open; then the new one.
      const iids = stack.fake.seedIssues(history + 1, (i) => ({
        title: `Northwind ${i + 1}`,
        description: large,
        author: 'alex.ae',
        labels: ['segment::mm', 'region::amr'],
        state: i < history && i % 2 === 1 ? 'closed' : 'opened',
        createdAt: new Date(now - (history + 1 - i) * DAY),
        updatedAt: new Date(now - (history + 1 - i) * DAY),
      }));
      const latest = iids.at(-1)!;
      const deps = stack.service.processDeps;
      // The first pass builds the account index: every request read once.
      await processIssue(deps, latest, logger);
      expect(stack.fake.issue(latest).labels).toContain('possible-duplicate');

      vi.mocked(parse).mockClear();
      const again = await processIssue(deps, latest, logger);
      expect(again.outcome).toBe('unchanged');
      // Its own description, for its account and for the decision; none of the history.
      expect(vi.mocked(parse).mock.calls.length).toBeLessThanOrEqual(2);
      expect(deps.accounts.parses).toBe(history + 1);
    },
  );
});

describe('one parse per pass (issue #20)', () => {
  it('a pass reads its own description once, for the account lookup and the decision alike', async () => {
    stack = await startStack(exampleConfig());
    const [iid] = stack.fake.seedIssues(1, () => ({
      title: 'Northwind',
      description: sample,
      author: 'alex.ae',
      // The labels the first pass sets anyway: the account index keeps its reading of the issue.
      labels: ['segment::mm', 'region::amr'],
      state: 'opened',
      createdAt: new Date(),
      updatedAt: new Date(),
    }));
    const deps = stack.service.processDeps;
    vi.mocked(parse).mockClear();
    const first = await processIssue(deps, iid!, logger);
    expect(first.outcome).toBe('applied');
    // The account index reads every issue once (this one too, as an issue of the project).
    const own = () => vi.mocked(parse).mock.calls.filter(([text]) => text === sample).length;
    const indexed = deps.accounts.parses;
    expect(own()).toBe(indexed + 1);

    vi.mocked(parse).mockClear();
    const again = await processIssue(deps, iid!, logger);
    expect(again.outcome).toBe('unchanged');
    expect(deps.accounts.parses).toBe(indexed);
    expect(own()).toBe(1);
    expect(vi.mocked(parse).mock.calls).toHaveLength(1);
  });
});
