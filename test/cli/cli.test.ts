import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './run-cli.js';

const SAMPLES = join(REPO_ROOT, 'samples', 'requests');

describe('scale-bot parse', () => {
  it('prints form, fields, qualification and routing for a valid request; exit 0', async () => {
    const r = await runCli(['parse', join(SAMPLES, 'mm-amr-valid.md'), '--author', 'alex.ae']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Form: Scale Engagement Request — Mid-Market, AMER (mm_amr v2, recognised by marker)');
    expect(r.stdout).toMatch(/Customer name\s+Northwind Traders/);
    expect(r.stdout).toContain('Problems: none');
    expect(r.stdout).toContain('Qualification: qualified');
    expect(r.stdout).toMatch(/Routing: @(drew|casey)\.cse \(pool\)/);
  });

  it('exits 1 and lists each problem when a request is incomplete', async () => {
    const r = await runCli(['parse', join(SAMPLES, 'smbeast-amr-missing-fields.md'), '--author', 'jordan.ae']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('- Salesforce account: this is required');
    expect(r.stdout).toMatch(/- Renewal date: "03\/04\/2027" could be/);
  });

  it('reports not-qualified requests (public sector) with exit 1', async () => {
    const r = await runCli(['parse', join(SAMPLES, 'smbwest-amr-public-sector.md'), '--author', 'jordan.ae', '--json']);
    expect(r.code).toBe(1);
    const [result] = JSON.parse(r.stdout);
    expect(result.request.problems).toEqual([]);
    expect(result.qualification.status).toBe('not-qualified');
    expect(result.qualification.rules.find((x: any) => x.id === 'not-public-sector').verdict).toBe('fail');
    expect(result.routing).toBeNull();
  });

  it('reads standard input with "-" and recognises a form by its labels when the marker is gone', async () => {
    const description = readFileSync(join(SAMPLES, 'mm-amr-valid.md'), 'utf8')
      .split('\n')
      .slice(1)
      .join('\n')
      .replace('## Scale Engagement Request — Mid-Market, AMER', '');
    const r = await runCli(['parse', '-', '--json', '--labels', 'segment::mm, region::amr', '--author', 'alex.ae'], {
      stdin: description,
    });
    const [result] = JSON.parse(r.stdout);
    expect(result.file).toBe('-');
    expect(result.request.form).toMatchObject({ id: 'mm_amr', detectedBy: 'labels' });
  });

  it('parses several files in one run, JSON keeps their order', async () => {
    const r = await runCli([
      'parse',
      join(SAMPLES, 'ent-amr-valid.md'),
      join(SAMPLES, 'mm-amr-valid.md'),
      '--json',
      '-a',
      '@sam.sal',
    ]);
    const results = JSON.parse(r.stdout);
    expect(results.map((x: any) => x.request.form.id)).toEqual(['ent_amr', 'mm_amr']);
  });

  it.each([
    [['parse'], 'missing required argument'],
    [['parse', 'nope.md'], 'nope.md: no such file'],
    [['parse', join(SAMPLES, 'mm-amr-valid.md'), '--today', '22/11/2026'], '--today must be a date'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['parse', join(SAMPLES, 'mm-amr-valid.md'), '--bogus'], "unknown option '--bogus'"],
  ])('bad usage %j exits 2 with a clear message', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('--help lists the commands and exit codes, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['parse', 'templates', 'config', 'Exit codes']) expect(r.stdout).toContain(word);
  });
});

describe('scale-bot config check', () => {
  it('accepts the shipped configuration', async () => {
    const r = await runCli(['config', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK — 4 forms');
  });

  it('rejects a broken configuration with every problem and its path, exit 2, nothing run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'broken.yml');
    const text = readFileSync(join(REPO_ROOT, '.gitlab', 'scale-bot.yml'), 'utf8')
      .replace('segment: mm\n', 'segment: xl\n')
      .replace('backup: [harper.mgr] }', 'backup: [casey.cse] }');
    writeFileSync(file, text);
    const r = await runCli(['--config', file, 'config', 'check']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    // Each problem with its YAML path and where it is in the file.
    const lines = text.split('\n');
    const at = (needle: string, token: string) => {
      const row = lines.findIndex((l) => l.includes(needle));
      return `line ${row + 1}:${lines[row]!.lastIndexOf(token) + 1}`;
    };
    expect(r.stderr).toContain(`forms.mm_amr.segment (${at('segment: xl', 'xl')}): unknown segment "xl"`);
    expect(r.stderr).toContain(
      `routing.pools[0].backup[0] (${at('backup: [casey.cse] }', 'casey.cse')}): the chain must end at a manager`,
    );
  });

  it('refuses two labels the bot sets together in one scope, naming both YAML paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'scoped.yml');
    const text = readFileSync(join(REPO_ROOT, '.gitlab', 'scale-bot.yml'), 'utf8')
      .replace(/atRisk: \S+/, 'atRisk: flag::at-risk')
      .replace(/duplicate: \S+/, 'duplicate: flag::duplicate');
    writeFileSync(file, text);
    const r = await runCli(['--config', file, 'config', 'check']);
    expect(r.code).toBe(2);
    // With its YAML path and where that is in the file.
    const lines = text.split('\n');
    const row = lines.findIndex((l) => l.includes('duplicate: flag::duplicate'));
    const at = `line ${row + 1}:${lines[row]!.indexOf('flag::duplicate') + 1}`;
    expect(r.stderr).toContain(
      `labels.duplicate (${at}): labels.atRisk ("flag::at-risk") and labels.duplicate ("flag::duplicate") share the scope "flag"`,
    );
  });

  it('honours SCALE_BOT_CONFIG, and a parse with a broken config runs nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'c.yml'), 'version: 1\nbot: {}\n');
    const r = await runCli(['parse', join(SAMPLES, 'mm-amr-valid.md')], {
      env: { SCALE_BOT_CONFIG: join(dir, 'c.yml') },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('bot.username');
  });
});

describe('scale-bot templates', () => {
  it('check passes on the committed templates', async () => {
    const r = await runCli(['templates', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('templates up to date');
  });

  it('generate writes next to the config, and check then passes; a stale one exits 1 with a diff', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repo-'));
    cpSync(join(REPO_ROOT, '.gitlab', 'scale-bot.yml'), join(dir, '.gitlab', 'scale-bot.yml'));
    const gen = await runCli(['templates', 'generate'], { cwd: dir });
    expect(gen.code).toBe(0);
    expect(gen.stdout.trim().split('\n')).toHaveLength(5);
    expect(gen.stdout).toContain('wrote .gitlab/issue_templates/scale-bot-forms.lock.json');
    expect((await runCli(['templates', 'check'], { cwd: dir })).code).toBe(0);
    const file = join(dir, '.gitlab', 'issue_templates', 'scale_engagement_request_mm_amr.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('### Plan (required)', '### Plan'));
    const check = await runCli(['templates', 'check'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('stale: scale_engagement_request_mm_amr.md');
    expect(check.stdout).toContain('+### Plan (required)');
    expect(check.stderr).toContain('scale-bot templates generate');
  });

  it('generate deletes the template of a removed form, so check passes right after (no loop between the two)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repo-'));
    try {
      const configFile = join(dir, '.gitlab', 'scale-bot.yml');
      cpSync(join(REPO_ROOT, '.gitlab'), join(dir, '.gitlab'), { recursive: true });
      // Drop the smbwest_amr form and its pool.
      const text = readFileSync(configFile, 'utf8');
      const withoutForm = text
        .replace(/\n  smbwest_amr:\n[\s\S]*?(?=\n\S)/, '\n')
        .replace(/\n\s+- \{ segment: smb, region: amr-west[^\n]*/, '');
      expect(withoutForm).not.toBe(text);
      writeFileSync(configFile, withoutForm);
      const before = await runCli(['templates', 'check'], { cwd: dir });
      expect(before.code).toBe(1);
      expect(before.stdout).toContain('orphaned: scale_engagement_request_smbwest_amr.md');
      const gen = await runCli(['templates', 'generate'], { cwd: dir });
      expect(gen.stdout).toContain(
        'deleted .gitlab/issue_templates/scale_engagement_request_smbwest_amr.md (no such form any more)',
      );
      expect(existsSync(join(dir, '.gitlab', 'issue_templates', 'scale_engagement_request_smbwest_amr.md'))).toBe(
        false,
      );
      expect((await runCli(['templates', 'check'], { cwd: dir })).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describe --json lists every form with ids, labels, types and options', async () => {
    const r = await runCli(['templates', 'describe', '--json']);
    expect(r.code).toBe(0);
    const { forms } = JSON.parse(r.stdout);
    expect(forms.map((f: any) => f.id)).toEqual(['ent_amr', 'mm_amr', 'smbeast_amr', 'smbwest_amr']);
    const deployment = forms[1].versions[0].fields.find((f: any) => f.id === 'deployment');
    expect(deployment).toMatchObject({ label: 'Deployment', type: 'select', required: true });
    expect(deployment.options.map((o: any) => o.value)).toEqual(['saas', 'self-managed', 'dedicated']);
  });
});
