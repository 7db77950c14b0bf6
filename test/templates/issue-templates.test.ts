import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from '../../src/domain/parse.js';
import { FORM_LOCK_FILE } from '../../src/templates/form-lock.js';
import {
  checkIssueTemplates,
  generateIssueTemplates,
  writeIssueTemplates,
} from '../../src/templates/issue-templates.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { EXAMPLE_CONFIG_PATH, exampleConfig } from '../helpers/config.js';

/** The example configuration with its text changed, compiled afresh (the shared one stays intact). */
function editedExample(edit: (yamlText: string) => string) {
  const text = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8');
  const changed = edit(text);
  expect(changed).not.toBe(text);
  return parseConfigText(changed, 'edited.yml');
}

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
    const made: string[] = [];
    afterEach(() => {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    });
    function copy(): string {
      const dir = mkdtempSync(join(tmpdir(), 'templates-'));
      made.push(dir);
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

    it('fails when a released version is edited in place, naming the fields, and generate does not paper over it', () => {
      const dir = copy();
      // mm_amr version 1 calls licenses_in_use "Seats in use"; renaming that heading in place changes a released version.
      const edited = editedExample((t) => t.replace('label: Seats in use }', 'label: Seats counted }'));
      const before = checkIssueTemplates(edited, dir);
      expect(before.filter((d) => d.status === 'edited').map((d) => d.diff)).toEqual([
        expect.stringContaining(
          'form mm_amr version 1 was released and is edited in place: licenses_in_use (changed); restore version 1 and add the change as version 3',
        ),
      ]);
      writeIssueTemplates(edited, dir);
      expect(checkIssueTemplates(edited, dir).map((d) => d.status)).toEqual(['edited']);
    });

    it('accepts a change made as a new version once generate has locked it', () => {
      const dir = copy();
      const withV3 = editedExample((t) =>
        t.replace(
          /(mm_amr:[\s\S]*?versions:\n)(\s+)- version: 2\n/,
          (_m, head: string, indent: string) =>
            `${head}${indent}- version: 3\n${indent}  fields: [{ fieldset: request }]\n${indent}- version: 2\n`,
        ),
      );
      expect(checkIssueTemplates(withV3, dir).map((d) => [d.fileName, d.status])).toEqual([
        ['scale_engagement_request_mm_amr.md', 'stale'],
        [FORM_LOCK_FILE, 'stale'],
      ]);
      writeIssueTemplates(withV3, dir);
      expect(checkIssueTemplates(withV3, dir)).toEqual([]);
    });

    it('generate deletes the templates of removed forms and drops them from the lock, so check then passes', () => {
      const dir = copy();
      writeFileSync(join(dir, 'scale_engagement_request_old_form.md'), 'old');
      writeFileSync(join(dir, 'Bug.md'), 'not ours');
      expect(writeIssueTemplates(exampleConfig(), dir).deleted).toEqual(['scale_engagement_request_old_form.md']);
      expect(existsSync(join(dir, 'Bug.md'))).toBe(true);
      expect(checkIssueTemplates(exampleConfig(), dir)).toEqual([]);
    });

    it('reports a missing lock, which generate writes', () => {
      const dir = copy();
      rmSync(join(dir, FORM_LOCK_FILE));
      expect(checkIssueTemplates(exampleConfig(), dir).map((d) => [d.fileName, d.status])).toEqual([
        [FORM_LOCK_FILE, 'missing'],
      ]);
    });
  });
});
