import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { PACKAGE_ROOT } from '../package-root.js';

export const TEMPLATES_DIR = join(PACKAGE_ROOT, 'templates');

/** An isolated Handlebars environment for Markdown: no HTML escaping, a few safe helpers. */
export function createHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  // Text inside an HTML comment must not close it early.
  hb.registerHelper('comment', (text: unknown) => String(text ?? '').replace(/--+>?/g, '—'));
  return hb;
}

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Renders `templates/<name>` with the given view model; templates are compiled once per process. */
export function renderTemplate(name: string, model: object, dir: string = TEMPLATES_DIR): string {
  const path = join(dir, name);
  let template = compiled.get(path);
  if (!template) {
    template = createHandlebars().compile(readFileSync(path, 'utf8'), { noEscape: true, strict: true });
    compiled.set(path, template);
  }
  return template(model);
}
