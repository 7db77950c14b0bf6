import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { reconcile } from '../../src/worker/reconcile.js';
import { exampleConfig } from '../helpers/config.js';
import { startStack, type Stack, stopStackAfterEach } from './stack.js';

/**
 * Against a stand-in that behaves as GitLab Premium does: scoped labels exclusive, searches limited
 * to 30 a minute per user (429 with Retry-After past that).
 */

const sample = readFileSync(join(import.meta.dirname, '..', '..', 'samples', 'requests', 'mm-amr-valid.md'), 'utf8');
const withLabels = (description: string) => `${description.trimEnd()}\n\n/label ~"segment::mm" ~"region::amr"\n`;
/** The same request for another account (CRM id and name differ). */
const forAccount = (n: number) =>
  sample
    .replace('0014M00001lAbCdQAK', `0014M0000${String(n).padStart(3, '0')}AbCdQAK`)
    .replace('Northwind Traders', `Northwind ${n} Traders`);
const logger = pino({ level: 'silent' });

let stack: Stack | null = null;
stopStackAfterEach(() => {
  const started = stack;
  stack = null;
  return started;
});

describe('GitLab as it behaves: scoped labels and rate limits', () => {
  it("repeated reconcile passes flip no label: flags stand together, a person's label in a flag's scope is left alone", async () => {
    stack = await startStack(exampleConfig());
    const first = await stack.fake.as('alex.ae').createIssue({ title: 'Northwind 1', description: withLabels(sample) });
    await stack.drain();
    const second = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Northwind 2', description: withLabels(sample) });
    await stack.drain();
    // A manager approves the escalation: on Premium that label replaces escalation::candidate.
    await stack.fake.as('harper.mgr').editIssue(first.iid, { addLabels: ['escalation::approved'] });
    await stack.drain();
    expect(stack.fake.issue(first.iid).labels).toEqual(
      expect.arrayContaining(['at-risk', 'possible-duplicate', 'escalation::approved']),
    );
    expect(stack.fake.issue(first.iid).labels).not.toContain('escalation::candidate');
    expect(stack.fake.issue(second.iid).labels).toEqual(
      expect.arrayContaining(['at-risk', 'possible-duplicate', 'escalation::candidate']),
    );

    const events = () => [first.iid, second.iid].map((iid) => stack!.fake.labelEvents(iid).length);
    const before = events();
    stack.fake.resetCalls();
    for (let pass = 0; pass < 3; pass++) {
      const lines = await reconcile(stack.service.processDeps, { settleMs: 0 }, logger);
      expect(lines.map((l) => l.outcome)).toEqual(['unchanged', 'unchanged']);
    }
    expect(stack.fake.writes()).toEqual([]);
    expect(events()).toEqual(before);
  });

  it("a note GitLab refuses (400, too long) dead-letters the pass at once with GitLab's reason: no retry loop", async () => {
    stack = await startStack(exampleConfig());
    // The bot keeps its notes within the limit, so the refusal is injected, in GitLab's words (see the fake's state.ts).
    const tooLong = '400 Bad request - Note {:note=>["is too long (maximum is 1000000 characters)"]}';
    stack.fake.failNext({ method: 'POST', path: /\/issues\/\d+\/notes$/ }, { status: 400, body: { message: tooLong } });
    const created = await stack.fake.as('alex.ae').createIssue({ title: 'Northwind', description: withLabels(sample) });
    await stack.drain();
    const posts = stack.fake
      .callsBy(stack.fake.botUsername)
      .filter((c) => c.method === 'POST' && c.path.endsWith(`/issues/${created.iid}/notes`));
    expect(posts.map((c) => c.status)).toEqual([400]);
    const failed = await stack.service.inbox!.list({ failed: true });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.lastError).toContain('400');
    expect(failed[0]!.lastError).toContain('is too long (maximum is 1000000 characters)');
  });

  it('the account index sees a related request close, and one edited to name the account, without a search', async () => {
    stack = await startStack(exampleConfig());
    const first = await stack.fake.as('alex.ae').createIssue({ title: 'Northwind 1', description: withLabels(sample) });
    const other = await stack.fake
      .as('alex.ae')
      .createIssue({ title: 'Another account', description: withLabels(forAccount(7)) });
    await stack.drain();
    expect(stack.fake.issue(first.iid).labels).not.toContain('possible-duplicate');
    // The other request is edited to be about Northwind after all: both are flagged.
    await stack.fake.as('alex.ae').editIssue(other.iid, { description: sample });
    await stack.drain();
    expect(stack.fake.issue(other.iid).labels).toContain('possible-duplicate');
    expect(stack.fake.issue(first.iid).labels).toContain('possible-duplicate');
    // Closed: the first is a duplicate no more once it is passed again.
    await stack.fake.as('alex.ae').closeIssue(other.iid);
    await stack.drain();
    await reconcile(stack.service.processDeps, { settleMs: 0 }, logger);
    expect(stack.fake.issue(first.iid).labels).not.toContain('possible-duplicate');
    expect(stack.fake.callsBy(stack.fake.botUsername).filter((c) => c.query.search !== undefined)).toEqual([]);
  });

  it(
    'a quarter-end burst of 40 new requests is routed with no search at all and no 429',
    { timeout: 60_000 },
    async () => {
      stack = await startStack(exampleConfig(), { settings: { concurrency: 16 } });
      const created = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          stack!.fake
            .as('alex.ae')
            .createIssue({ title: `Request ${i + 1}`, description: withLabels(forAccount(i + 1)) }),
        ),
      );
      await stack.drain();
      for (const issue of created) {
        expect(stack.fake.issue(issue.iid).labels).toContain('engagement::assigned');
        expect(stack.fake.issue(issue.iid).assignees).toHaveLength(1);
      }
      const bot = stack.fake.callsBy(stack.fake.botUsername);
      expect(bot.filter((c) => c.query.search !== undefined)).toEqual([]);
      expect(bot.filter((c) => c.status === 429)).toEqual([]);
    },
  );

  it('the same burst for one account: each request lists the other 39 as duplicates, still no search', async () => {
    stack = await startStack(exampleConfig(), { settings: { concurrency: 16 } });
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        stack!.fake.as('alex.ae').createIssue({ title: `Request ${i + 1}`, description: withLabels(sample) }),
      ),
    );
    await stack.drain();
    for (const issue of created) {
      expect(stack.fake.issue(issue.iid).labels).toContain('possible-duplicate');
      const note = stack.fake.botNotes(issue.iid).find((n) => n.body.includes('scale-bot:request'))!;
      expect(note.body.match(/\/-\/issues\/\d+\)/g)?.length ?? 0).toBeGreaterThanOrEqual(39);
    }
    expect(
      stack.fake.callsBy(stack.fake.botUsername).filter((c) => c.query.search !== undefined || c.status === 429),
    ).toEqual([]);
  }, 120_000);
});
