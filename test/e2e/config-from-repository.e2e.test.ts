import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG_PATH, parseConfigText } from '../../src/config/load-config.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { readNoteMarker } from '../../src/domain/bot-note-marker.js';
import { generateIssueTemplates } from '../../src/templates/issue-templates.js';
import { exampleConfig } from '../helpers/config.js';
import { startService } from '../../src/service/service.js';
import { settingsFor, startStack, WEBHOOK_SECRET, type Stack, stopStackAfterEach } from './stack.js';

const sample = (name: string) => readFileSync(join(PACKAGE_ROOT, 'samples', 'requests', name), 'utf8');
const mmRequest = (customer: string, account: string, version: number) =>
  `${sample('mm-amr-valid.md')
    .replace('id=mm_amr version=2', `id=mm_amr version=${version}`)
    .replaceAll('Northwind Traders', customer)
    .replace('0014M00001lAbCdQAK', account)}\n/label ~"segment::mm" ~"region::amr"\n`;
const bundled = readFileSync(join(PACKAGE_ROOT, DEFAULT_CONFIG_PATH), 'utf8');
/** Form mm_amr gains version 3 (the optional Solutions architect field), as a merge request would add it. */
const withV3 = bundled.replace(
  /(  mm_amr:\n[\s\S]*?    versions:\n)/,
  '$1      - version: 3\n        fields: [{ fieldset: request }, solutions_architect, { fieldset: attestations }]\n',
);

/** The configuration and the templates generated from it, in one commit, as `templates generate` writes them. */
function formChange(text: string): Record<string, string> {
  const files: Record<string, string> = { [DEFAULT_CONFIG_PATH]: text };
  for (const t of generateIssueTemplates(parseConfigText(text, 'change.yml')))
    files[`.gitlab/issue_templates/${t.fileName}`] = t.content;
  return files;
}

const requestNote = (s: Stack, iid: number) =>
  s.fake.botNotes(iid).find((n) => readNoteMarker(n.body)?.key === 'request')!;

let stack: Stack | null = null;
stopStackAfterEach(() => {
  const started = stack;
  stack = null;
  return started;
});

describe('the configuration lives in the project (real server + worker, fake GitLab on 127.0.0.1)', () => {
  it('a merged form change is used without a restart; issues from the old template keep parsing; a broken one is refused once, with one comment', async () => {
    expect(withV3).not.toBe(bundled);
    stack = await startStack(exampleConfig(), { fromRepository: true });
    const { fake } = stack;

    // An AE on an old template; and one on the new template before the bot has it.
    const old = await fake
      .as('alex.ae')
      .createIssue({ title: 'Old template', description: mmRequest('Contoso Retail', '0014M00005oLdTmPAK', 2) });
    const early = await fake
      .as('alex.ae')
      .createIssue({ title: 'Too early', description: mmRequest('Fabrikam', '0014M00006eArLyQAK', 3) });
    await stack.drain();
    expect(fake.issue(old.iid).labels).toContain('engagement::assigned');
    expect(requestNote(stack, early.iid).body).toContain('which this bot does not know');

    // The merge request lands: configuration and templates in one commit, one Push Hook.
    const merged = await fake.push(formChange(withV3), {
      message: 'Add version 3 of the mid-market form',
      as: 'harper.mgr',
    });
    await stack.drain();
    // The Push Hook alone starts the check (the periodic one is minutes away).
    const versions = () =>
      stack!.service.configSource.config.forms.find((f) => f.id === 'mm_amr')!.versions.map((v) => v.version);
    await vi.waitFor(() => expect(versions()).toEqual([3, 2, 1]), { timeout: 5_000, interval: 20 });
    const ready = (await (await fetch(`${stack.service.url}/readyz`)).json()) as { checks: Record<string, string> };
    expect(ready.checks.config).toBe(`ok (.gitlab/scale-bot.yml at commit ${merged.slice(0, 8)})`);

    const fresh = await fake
      .as('alex.ae')
      .createIssue({ title: 'New template', description: mmRequest('Tailspin Toys', '0014M00007nEwTmPAK', 3) });
    await stack.drain();
    expect(fake.issue(fresh.iid).labels).toContain('engagement::assigned');
    expect(requestNote(stack, fresh.iid).body).not.toContain('does not know');
    // The issue still open from the old template is passed again and still parses.
    await fake.as('alex.ae').editIssue(old.iid, { title: 'Old template, renamed' });
    await stack.drain();
    expect(fake.issue(old.iid).labels).toContain('engagement::assigned');
    expect(requestNote(stack, old.iid).body).not.toContain('does not know');

    // A broken configuration reaches the default branch: refused, the last good one kept.
    const broken = withV3.replace('members: [emery.cse, gray.cse]', 'members: [emery.cse, ghost.cse]');
    expect(broken).not.toBe(withV3);
    const bad = await fake.push(
      { [DEFAULT_CONFIG_PATH]: broken },
      { message: 'Add ghost to the pool', as: 'harper.mgr' },
    );
    await stack.drain();
    await vi.waitFor(() => expect(fake.commitComments(bad)).toHaveLength(1), { timeout: 5_000, interval: 20 });
    expect(versions()[0]).toBe(3);
    const comments = fake.commitComments(bad);
    expect(comments[0]!.author).toBe(fake.botUsername);
    const line = broken.split('\n').findIndex((l) => l.includes('ghost.cse')) + 1;
    expect(comments[0]!.note).toMatch(
      new RegExp(`routing\\.pools\\[2\\]\\.members\\[1\\]\` \\(line ${line}:\\d+\\): "ghost\\.cse" is not in people`),
    );
    expect(comments[0]!.note).toContain(
      `keeps running with the last valid configuration (commit ${merged.slice(0, 8)})`,
    );
    const readyAfter = (await (await fetch(`${stack.service.url}/readyz`)).json()) as {
      ok: boolean;
      checks: Record<string, string>;
    };
    expect(readyAfter.ok).toBe(true);
    expect(readyAfter.checks.config).toContain(
      `the version of commit ${bad.slice(0, 8)} is invalid (1 problem(s), commented on that commit) and is not used`,
    );

    // More pushes that leave the broken file as it is: no second comment.
    await fake.push({ 'README.md': 'notes\n' }, { message: 'Docs' });
    await stack.drain();
    await stack.service.configSource.refresh();
    expect(fake.commitComments(bad)).toHaveLength(1);
    // Requests keep flowing on the last good configuration.
    const during = await fake
      .as('alex.ae')
      .createIssue({ title: 'During the outage', description: mmRequest('Wide World', '0014M00008wIdEwQAK', 3) });
    await stack.drain();
    expect(fake.issue(during.iid).labels).toContain('engagement::assigned');
  });

  it('a restart while the file is broken starts on the newest valid version in its history, commenting only once', async () => {
    stack = await startStack(exampleConfig(), { fromRepository: true });
    const good = await stack.fake.push(formChange(withV3), { message: 'Add version 3' });
    const bad = await stack.fake.push(
      { [DEFAULT_CONFIG_PATH]: withV3.replace('version: 1\n', 'version: 7\n') },
      { message: 'Bump' },
    );
    await stack.drain();
    await vi.waitFor(() => expect(stack!.fake.commitComments(bad)).toHaveLength(1), { timeout: 5_000, interval: 20 });
    for (let restart = 0; restart < 2; restart++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'scale-bot-restart-'));
      const again = await startService(settingsFor(stack.fake, dataDir), 'repository', {
        server: false,
        worker: true,
        logger: pino({ level: 'silent' }),
      });
      try {
        expect(again.configSource.config.forms.find((f) => f.id === 'mm_amr')!.versions[0]!.version).toBe(3);
        expect(again.configSource.status()).toBe(
          `ok (.gitlab/scale-bot.yml at commit ${good.slice(0, 8)}); the version of commit ${bad.slice(0, 8)} is invalid (1 problem(s), commented on that commit) and is not used`,
        );
      } finally {
        await again.stop(500);
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    expect(stack.fake.commitComments(bad)).toHaveLength(1);
    const line = withV3.split('\n').findIndex((l) => l === 'version: 1') + 1;
    expect(stack.fake.commitComments(bad)[0]!.note).toContain(`- \`version\` (line ${line}:10): `);
  });

  it('an instance that sends no Push Hook picks the change up at the periodic check', async () => {
    stack = await startStack(exampleConfig(), { fromRepository: true, configCheckMs: 100 });
    const target = { url: `${stack.service.url}/webhooks/gitlab`, token: WEBHOOK_SECRET };
    stack.fake.setWebhook(null);
    await stack.fake.push(formChange(withV3), { message: 'Add version 3' });
    expect(stack.fake.deliveries.filter((d) => d.event === 'Push Hook')).toEqual([]);
    await vi.waitFor(
      () =>
        expect(stack!.service.configSource.config.forms.find((f) => f.id === 'mm_amr')!.versions[0]!.version).toBe(3),
      { timeout: 5_000, interval: 20 },
    );
    stack.fake.setWebhook(target);
  });
});
