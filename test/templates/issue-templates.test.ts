import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/domain/parse.js';
import { checkIssueTemplates, generateIssueTemplates } from '../../src/templates/issue-templates.js';
import { exampleConfig } from '../helpers/config.js';

const COMMITTED = resolve(import.meta.dirname, '..', '..', '.gitlab', 'issue_templates');

describe('issue templates', () => {
  it('the committed templates match the forms (run `scale-bot templates generate` after changing a form)', () => {
    expect(checkIssueTemplates(exampleConfig(), COMMITTED)).toEqual([]);
  });

  it('follow the documented format: marker, ### headings, help comments, task lists, quick actions', () => {
    const config = exampleConfig();
    const mm = generateIssueTemplates(config).find((t) => t.fileName === 'scale_engagement_request_mm_amr.md')!;
    const lines = mm.content.split('\n');
    expect(lines[0]).toBe('<!-- scale-bot:form id=mm_amr version=2 -->');
    const form = config.forms.find((f) => f.id === 'mm_amr')!;
    const headings = lines.filter((l) => l.startsWith('### '));
    expect(headings).toHaveLength(form.versions[0]!.fields.length);
    expect(headings).toContain('### Customer name (required)');
    expect(headings).toContain('### Desired timeline');
    expect(mm.content).toContain('- [ ] Self-managed\n');
    expect(mm.content).toMatch(/<!-- Tick one: change \[ \] to \[x\]\. -->/);
    expect(lines.filter((l) => l.startsWith('/'))).toEqual(['/label ~"segment::mm" ~"region::amr"']);
  });

  it('every generated template parses back to its own form and latest version', () => {
    const config = exampleConfig();
    for (const t of generateIssueTemplates(config)) {
      const formId = t.fileName.replace(/^scale_engagement_request_|\.md$/g, '');
      const result = parse(t.content, config.catalog);
      expect(result.form).toMatchObject({ id: formId, detectedBy: 'marker' });
      expect(result.form!.version).toBe(config.forms.find((f) => f.id === formId)!.versions[0]!.version);
    }
  });

  it('help text cannot close its HTML comment early', () => {
    const config = exampleConfig();
    const field = config.forms[0]!.versions[0]!.fields[0]!;
    const original = field.help;
    field.help = 'Tricky --> help';
    try {
      const t = generateIssueTemplates(config)[0]!;
      expect(t.content).not.toContain('Tricky -->');
    } finally {
      field.help = original;
    }
  });

  describe('check', () => {
    function copy(): string {
      const dir = mkdtempSync(join(tmpdir(), 'templates-'));
      cpSync(COMMITTED, dir, { recursive: true });
      return dir;
    }

    it('reports a stale template with a unified diff', () => {
      const dir = copy();
      const file = join(dir, 'scale_engagement_request_ent_amr.md');
      writeFileSync(file, readFileSync(file, 'utf8').replace('### Plan (required)', '### Tier'));
      const drift = checkIssueTemplates(exampleConfig(), dir);
      expect(drift).toHaveLength(1);
      expect(drift[0]).toMatchObject({ fileName: 'scale_engagement_request_ent_amr.md', status: 'stale' });
      expect(drift[0]!.diff).toContain('-### Tier');
      expect(drift[0]!.diff).toContain('+### Plan (required)');
    });

    it('reports missing and orphaned templates', () => {
      const dir = copy();
      rmSync(join(dir, 'scale_engagement_request_mm_amr.md'));
      writeFileSync(join(dir, 'scale_engagement_request_old_form.md'), 'old');
      writeFileSync(join(dir, 'Bug.md'), 'not ours');
      const drift = checkIssueTemplates(exampleConfig(), dir);
      expect(drift.map((d) => [d.fileName, d.status])).toEqual([
        ['scale_engagement_request_mm_amr.md', 'missing'],
        ['scale_engagement_request_old_form.md', 'orphaned'],
      ]);
    });
  });
});
