import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { TEMPLATES_DIR } from '../render/handlebars.js';

/** The status page's templates (`templates/status/*.html.hbs`), HTML-escaped, with the layout as a partial. */
const DIR = join(TEMPLATES_DIR, 'status');

const when = (value: unknown): string => {
  if (value === null || value === undefined || value === '') return '—';
  const date = typeof value === 'number' ? new Date(value) : new Date(String(value));
  return Number.isNaN(date.getTime()) ? '—' : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

function environment(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('when', when);
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('join', (list: unknown, sep: unknown) =>
    Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : '',
  );
  for (const file of readdirSync(DIR).filter((f) => f.startsWith('_'))) {
    hb.registerPartial(file.slice(1).replace(/\.html\.hbs$/, ''), readFileSync(join(DIR, file), 'utf8'));
  }
  return hb;
}

let hb: typeof Handlebars | null = null;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Renders `templates/status/<name>.html.hbs`; compiled once per process. */
export function renderPage(name: string, model: object): string {
  hb ??= environment();
  let template = compiled.get(name);
  if (!template) {
    template = hb.compile(readFileSync(join(DIR, `${name}.html.hbs`), 'utf8'), { strict: false });
    compiled.set(name, template);
  }
  return template(model);
}

export const STYLESHEET = join(DIR, 'status.css');
