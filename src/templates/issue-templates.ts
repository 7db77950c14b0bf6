import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { Config } from '../domain/config.js';
import { issueTemplateModel } from '../domain/issue-template-model.js';
import { renderTemplate } from '../render/handlebars.js';
import { FORM_LOCK_FILE, nextFormLock, releasedVersionEdits, renderFormLock, type FormLock } from './form-lock.js';

export interface GeneratedTemplate {
  fileName: string;
  content: string;
}

export function generateIssueTemplates(config: Config): GeneratedTemplate[] {
  return config.forms.map((form) => {
    const model = issueTemplateModel(form, config.catalog);
    return { fileName: model.fileName, content: renderTemplate('issue-templates/request.md.hbs', model) };
  });
}

const GENERATED_NAME = /^scale_engagement_request_.+\.md$/;

/** Generated template files in `dir` that no form in the configuration makes any more. */
function orphans(dir: string, expected: GeneratedTemplate[]): string[] {
  if (!existsSync(dir)) return [];
  const names = new Set(expected.map((t) => t.fileName));
  return readdirSync(dir)
    .filter((name) => GENERATED_NAME.test(name) && !names.has(name))
    .sort();
}

function readFormLock(dir: string): { text: string | null; lock: FormLock | null } {
  const path = join(dir, FORM_LOCK_FILE);
  if (!existsSync(path)) return { text: null, lock: null };
  const text = readFileSync(path, 'utf8');
  try {
    const lock = JSON.parse(text) as FormLock;
    return { text, lock: lock && typeof lock.forms === 'object' && lock.forms !== null ? lock : null };
  } catch {
    return { text, lock: null };
  }
}

/**
 * Writes every form's template and the lock of released versions, and deletes the templates of
 * forms no longer configured, so that a `check` right after passes (unless a released version was
 * edited in place, which only restoring it fixes).
 */
export function writeIssueTemplates(config: Config, dir: string): { written: string[]; deleted: string[] } {
  mkdirSync(dir, { recursive: true });
  const templates = generateIssueTemplates(config);
  const deleted = orphans(dir, templates);
  for (const name of deleted) rmSync(join(dir, name));
  for (const t of templates) writeFileSync(join(dir, t.fileName), t.content);
  writeFileSync(join(dir, FORM_LOCK_FILE), renderFormLock(nextFormLock(config, readFormLock(dir).lock)));
  return { written: [...templates.map((t) => t.fileName), FORM_LOCK_FILE], deleted };
}

export interface TemplateDrift {
  fileName: string;
  /** `edited`: a released form version changed in place; `generate` cannot fix that. */
  status: 'missing' | 'stale' | 'orphaned' | 'edited';
  diff: string;
}

/** Compares the committed templates and lock with what the forms generate now. */
export function checkIssueTemplates(config: Config, dir: string): TemplateDrift[] {
  const drift: TemplateDrift[] = [];
  const expected = generateIssueTemplates(config);
  const { text: lockText, lock } = readFormLock(dir);
  const files = [...expected, { fileName: FORM_LOCK_FILE, content: renderFormLock(nextFormLock(config, lock)) }];
  for (const t of files) {
    const path = join(dir, t.fileName);
    const committed = t.fileName === FORM_LOCK_FILE ? lockText : existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (committed === t.content) continue;
    drift.push({
      fileName: t.fileName,
      status: committed === null ? 'missing' : 'stale',
      diff: createTwoFilesPatch(`committed/${t.fileName}`, `generated/${t.fileName}`, committed ?? '', t.content),
    });
  }
  for (const name of orphans(dir, expected)) {
    drift.push({
      fileName: name,
      status: 'orphaned',
      diff: `${name} belongs to no form in the configuration; delete it\n`,
    });
  }
  for (const problem of lock ? releasedVersionEdits(config, lock) : [])
    drift.push({ fileName: FORM_LOCK_FILE, status: 'edited', diff: `${problem}\n` });
  return drift;
}
