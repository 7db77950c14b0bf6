import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { Config } from '../domain/config.js';
import { issueTemplateModel } from '../domain/issue-template-model.js';
import { renderTemplate } from '../render/handlebars.js';

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

export function writeIssueTemplates(config: Config, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return generateIssueTemplates(config).map((t) => {
    writeFileSync(join(dir, t.fileName), t.content);
    return t.fileName;
  });
}

export interface TemplateDrift {
  fileName: string;
  status: 'missing' | 'stale' | 'orphaned';
  diff: string;
}

const GENERATED_NAME = /^scale_engagement_request_.+\.md$/;

/** Compares the committed templates with what the forms generate now. */
export function checkIssueTemplates(config: Config, dir: string): TemplateDrift[] {
  const drift: TemplateDrift[] = [];
  const expected = generateIssueTemplates(config);
  for (const t of expected) {
    const path = join(dir, t.fileName);
    const committed = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (committed === t.content) continue;
    drift.push({
      fileName: t.fileName,
      status: committed === null ? 'missing' : 'stale',
      diff: createTwoFilesPatch(`committed/${t.fileName}`, `generated/${t.fileName}`, committed ?? '', t.content),
    });
  }
  const names = new Set(expected.map((t) => t.fileName));
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      if (GENERATED_NAME.test(name) && !names.has(name)) {
        drift.push({ fileName: name, status: 'orphaned', diff: `${name} belongs to no form in the configuration; delete it\n` });
      }
    }
  }
  return drift;
}
