import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Field, Form, FormVersion } from '../../src/domain/forms.js';
import { issueTemplateModel } from '../../src/domain/issue-template-model.js';
import { normalizeHeading, splitSections } from '../../src/domain/markdown-sections.js';
import { parse } from '../../src/domain/parse.js';
import type { ParsedRequest, ProblemCode } from '../../src/domain/request.js';
import { renderTemplate } from '../../src/render/handlebars.js';
import { generateIssueTemplates } from '../../src/templates/issue-templates.js';
import { exampleConfig } from '../helpers/config.js';

const config = exampleConfig();
const catalog = config.catalog;

function form(id: string): Form {
  const f = config.forms.find((x) => x.id === id);
  if (!f) throw new Error(`no form ${id}`);
  return f;
}

function version(id: string, v: number): FormVersion {
  const found = form(id).versions.find((x) => x.version === v);
  if (!found) throw new Error(`no version ${v} of ${id}`);
  return found;
}

/** The template as the generator renders it for one version (older versions are no longer committed). */
function templateFor(formId: string, v: number): string {
  const f = form(formId);
  return renderTemplate(
    'issue-templates/request.md.hbs',
    issueTemplateModel({ ...f, versions: [version(formId, v)] }, catalog),
  );
}

/** Every released version of every form, with its template. */
const TEMPLATES = config.forms.flatMap((f) =>
  f.versions.map((v) => ({ formId: f.id, version: v.version, content: templateFor(f.id, v.version) })),
);

const VALID_ANSWERS: Record<string, string> = {
  customer_name: 'Acme Corp',
  crm_account: '0014M00001AbCdEfGH',
  subscription_start: '2026-01-01',
  renewal_date: '1 January 2027',
  goals: 'They want help rolling out CI/CD to forty teams before the renewal.',
};

function validAnswer(field: Field): string {
  const known = VALID_ANSWERS[field.id];
  if (known !== undefined) return known;
  switch (field.type) {
    case 'currency':
      return '$120k';
    case 'number':
      return '250';
    case 'percent':
      return '68%';
    case 'date':
      return '2026-06-01';
    case 'user':
      return '@jane.doe';
    case 'url':
      return 'https://example.com';
    default:
      return `An answer for ${field.label}`;
  }
}

/** Fills a template like an AE: types an answer under each help comment, ticks the first choice. */
function fillTemplate(content: string, v: FormVersion, answer: (field: Field) => string | null = validAnswer): string {
  const byHeading = new Map(v.fields.map((f) => [normalizeHeading(f.label), f]));
  let current: Field | undefined;
  let ticked = false;
  const out: string[] = [];
  for (const line of content.split('\n')) {
    const heading = /^### (.*)$/.exec(line);
    if (heading) {
      current = byHeading.get(normalizeHeading(heading[1]!));
      ticked = false;
      out.push(line);
      continue;
    }
    if (current && current.options.length > 0 && !ticked && line.startsWith('- [ ] ')) {
      out.push(line.replace('- [ ] ', '- [x] '));
      ticked = true;
      continue;
    }
    out.push(line);
    if (current && current.options.length === 0 && /^<!-- .* -->$/.test(line)) {
      const a = answer(current);
      if (a !== null) out.push(a);
    }
  }
  return out.join('\n');
}

const PROBLEM_CODES: ReadonlySet<ProblemCode> = new Set<ProblemCode>([
  'form-unknown',
  'form-version-unknown',
  'missing',
  'invalid',
  'ambiguous',
  'not-an-option',
  'too-many-choices',
  'out-of-range',
  'too-short',
  'too-long',
  'pattern',
  'order',
  'not-confirmed',
]);

/** What every parse result must look like, whatever the input. */
function expectWellFormed(result: ParsedRequest): void {
  expect(Array.isArray(result.problems)).toBe(true);
  for (const p of result.problems) {
    expect(Object.keys(p).sort()).toEqual(['code', 'field', 'label', 'message']);
    expect(PROBLEM_CODES.has(p.code)).toBe(true);
    expect(typeof p.message).toBe('string');
    expect(p.message.length).toBeGreaterThan(0);
    expect(p.field === null).toBe(p.label === null);
  }
  if (result.form === null) {
    expect(result.fields).toEqual({});
    expect(result.problems.map((p) => p.code)).toContain('form-unknown');
    return;
  }
  const v = version(result.form.id, result.form.version);
  expect(Object.keys(result.fields)).toEqual(v.fields.map((f) => f.id));
  // Problems come in the order the form asks the questions; description-wide ones first.
  const order = new Map(v.fields.map((f, i) => [f.id, i]));
  const positions = result.problems.map((p) => (p.field === null ? -1 : order.get(p.field)));
  expect(positions).not.toContain(undefined);
  expect(positions).toEqual([...(positions as number[])].sort((a, b) => a - b));
  for (const p of result.problems) if (p.field !== null) expect(p.label).toBe(v.fields[order.get(p.field)!]!.label);
}

describe('parse: generated templates', () => {
  it('covers every released version, including mm_amr v1', () => {
    expect(TEMPLATES.map((t) => `${t.formId}@${t.version}`).sort()).toEqual([
      'ent_amr@1',
      'mm_amr@1',
      'mm_amr@2',
      'smbeast_amr@1',
      'smbwest_amr@1',
    ]);
    // The newest versions render exactly what the generator writes for the committed templates.
    for (const t of generateIssueTemplates(config)) {
      const formId = t.fileName.replace(/^scale_engagement_request_|\.md$/g, '');
      expect(
        TEMPLATES.find((x) => x.formId === formId && x.version === form(formId).versions[0]!.version)!.content,
      ).toBe(t.content);
    }
  });

  it.each(TEMPLATES)(
    '$formId v$version as-is: recognised by its marker, every required field reported, nothing else',
    ({ formId, version: v, content }) => {
      const result = parse(content, catalog);
      expect(result.form).toMatchObject({ id: formId, version: v, detectedBy: 'marker' });
      expectWellFormed(result);
      const fields = version(formId, v).fields;
      const expected = fields
        .filter((f) => f.required)
        .map((f) => ({ field: f.id, label: f.label, code: f.type === 'checkbox' ? 'not-confirmed' : 'missing' }));
      expect(result.problems.map(({ field, label, code }) => ({ field, label, code }))).toEqual(expected);
      // Nothing answered: only the untouched confirmation boxes read as "not ticked".
      for (const f of fields) expect(result.fields[f.id]).toBe(f.type === 'checkbox' ? false : null);
    },
  );

  it.each(TEMPLATES)('$formId v$version fully filled in: no problems', ({ formId, version: v, content }) => {
    const result = parse(fillTemplate(content, version(formId, v)), catalog);
    expect(result.problems).toEqual([]);
    expect(result.form).toMatchObject({ id: formId, version: v, detectedBy: 'marker' });
    expect(result.fields).toMatchObject({
      customer_name: 'Acme Corp',
      arr: 120_000,
      plan: 'premium',
      deployment: 'saas',
      renewal_date: '2027-01-01',
      use_cases: ['scm'],
      account_owner_attestation: true,
      customer_aware_attestation: true,
    });
  });
});

describe('parse: versions of mm_amr', () => {
  const v1 = templateFor('mm_amr', 1);
  const v2 = templateFor('mm_amr', 2);

  it('v1 asked "Seats in use" and had no utilization; its answer fills licenses_in_use', () => {
    const d = fillTemplate(v1, version('mm_amr', 1), (f) => (f.id === 'licenses_in_use' ? '310' : validAnswer(f)));
    expect(d).toContain('### Seats in use\n');
    const result = parse(d, catalog);
    expect(result.form).toMatchObject({ id: 'mm_amr', version: 1 });
    expect(result.fields.licenses_in_use).toBe(310);
    expect(result.fields).not.toHaveProperty('utilization');
    expect(result.problems).toEqual([]);
  });

  it('problems under v1 use the v1 label', () => {
    const result = parse(
      fillTemplate(v1, version('mm_amr', 1), (f) => (f.id === 'licenses_in_use' ? 'lots' : validAnswer(f))),
      catalog,
    );
    expect(result.problems).toEqual([
      { field: 'licenses_in_use', label: 'Seats in use', code: 'invalid', message: '"lots" is not a number' },
    ]);
  });

  it('under v2 the old heading "Seats in use" still fills licenses_in_use', () => {
    const d = fillTemplate(v2, version('mm_amr', 2), (f) =>
      f.id === 'licenses_in_use' ? '275' : validAnswer(f),
    ).replace('### Licenses in use\n', '### Seats in use\n');
    const result = parse(d, catalog);
    expect(result.form).toMatchObject({ id: 'mm_amr', version: 2, detectedBy: 'marker' });
    expect(result.fields.licenses_in_use).toBe(275);
    expect(result.problems).toEqual([]);
  });

  it('without a marker, the headings pick the version: "Seats in use" means v1, the v2 headings v2', () => {
    const strip = (t: string) => t.replace(/^<!-- scale-bot:form .* -->\n/, '');
    const labels = ['segment::mm', 'region::amr'];
    expect(parse(strip(fillTemplate(v1, version('mm_amr', 1))), catalog, { labels }).form).toMatchObject({
      version: 1,
      detectedBy: 'labels',
    });
    expect(parse(strip(fillTemplate(v2, version('mm_amr', 2))), catalog, { labels }).form).toMatchObject({
      version: 2,
      detectedBy: 'labels',
    });
    expect(parse(strip(fillTemplate(v1, version('mm_amr', 1))), catalog).form).toMatchObject({
      version: 1,
      detectedBy: 'title',
    });
  });

  it('with nothing to tell the versions apart, the newest wins (bug: the version with fewer fields did)', () => {
    const labels = ['segment::mm', 'region::amr'];
    expect(parse('', catalog, { labels }).form).toMatchObject({ id: 'mm_amr', version: 2 });
    // A v2 issue whose marker and optional sections were deleted: nothing says v1.
    const dropSection = (t: string, heading: string) => t.replace(new RegExp(`### ${heading}\\n[^#]*`), '');
    let d = fillTemplate(v2, version('mm_amr', 2)).replace(/^<!-- scale-bot:form .* -->\n/, '');
    for (const h of ['Licenses in use', 'License utilization', 'Desired timeline']) d = dropSection(d, h);
    expect(d).not.toContain('Licenses in use');
    const result = parse(d, catalog, { labels });
    expect(result.form).toMatchObject({ id: 'mm_amr', version: 2, detectedBy: 'labels' });
    expect(result.fields).toHaveProperty('utilization', null);
  });

  it('a marker naming an unknown version is reported and read with the best-matching version', () => {
    const result = parse(v1.replace('version=1', 'version=9'), catalog);
    expect(result.form).toMatchObject({ id: 'mm_amr', version: 1, detectedBy: 'marker' });
    expect(result.problems[0]).toMatchObject({ field: null, label: null, code: 'form-version-unknown' });
  });
});

describe('parse: finding the form without its marker', () => {
  const mm = fillTemplate(templateFor('mm_amr', 2), version('mm_amr', 2));
  const noMarker = mm.replace(/^<!-- scale-bot:form .* -->\n/, '');
  const noTitle = noMarker.replace(/^## .*\n/, '');

  it('by the segment/region labels (case-insensitive), before the title', () => {
    expect(parse(noMarker, catalog, { labels: ['Segment::SMB', 'REGION::amr-west'] }).form).toMatchObject({
      id: 'smbwest_amr',
      detectedBy: 'labels',
    });
  });

  it('by the title heading', () => {
    expect(parse(noMarker, catalog).form).toMatchObject({ id: 'mm_amr', detectedBy: 'title' });
  });

  it('by the headings alone only when one form has them all (Solutions architect is Enterprise-only)', () => {
    const ent = fillTemplate(templateFor('ent_amr', 1), version('ent_amr', 1))
      .replace(/^<!-- scale-bot:form .* -->\n/, '')
      .replace(/^## .*\n/m, '');
    expect(parse(ent, catalog).form).toMatchObject({ id: 'ent_amr', detectedBy: 'headings' });
  });

  it('says the form cannot be told apart (not "not a template") when several forms share the headings', () => {
    const result = parse(noTitle, catalog);
    expect(result.form).toBeNull();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ code: 'form-unknown' });
    expect(result.problems[0]!.message).toContain('add the segment and region labels');
    expect(result.problems[0]!.message).toContain('Mid-Market');
  });

  it('an unrelated description, or an empty one, is not a request', () => {
    for (const d of ['', '   \n', '## Summary\n\nThe build is broken.\n\n## Steps to reproduce\n\n1. Push\n']) {
      const result = parse(d, catalog);
      expect(result).toEqual({
        form: null,
        fields: {},
        problems: [expect.objectContaining({ field: null, label: null, code: 'form-unknown' })],
      });
    }
  });
});

describe('parse: problems', () => {
  it('are ordered as the form asks its questions, whatever step found them', () => {
    const v = version('smbwest_amr', 1);
    const answers: Record<string, string | null> = {
      customer_name: null, // missing (validation)
      arr: '€10k', // unreadable (reading)
      licenses_purchased: '0', // out of range (validation)
      renewal_date: '2025-01-01', // before the start (validation, compares two fields)
      goals: 'short', // too short (validation)
    };
    const d = fillTemplate(templateFor('smbwest_amr', 1), v, (f) =>
      f.id in answers ? answers[f.id]! : validAnswer(f),
    );
    const result = parse(d.replace('- [x] Premium\n- [ ] Ultimate', '- [x] Premium\n- [x] Ultimate'), catalog);
    expect(result.problems.map((p) => `${p.field}:${p.code}`)).toEqual([
      'customer_name:missing',
      'arr:invalid',
      'plan:too-many-choices',
      'licenses_purchased:out-of-range',
      'renewal_date:order',
      'goals:too-short',
    ]);
    expectWellFormed(result);
  });

  it('a field with a reading problem is not also reported as missing', () => {
    const v = version('ent_amr', 1);
    const result = parse(
      fillTemplate(templateFor('ent_amr', 1), v, (f) => (f.id === 'renewal_date' ? '03/04/2027' : validAnswer(f))),
      catalog,
    );
    expect(result.problems).toEqual([
      {
        field: 'renewal_date',
        label: 'Renewal date',
        code: 'ambiguous',
        message:
          '"03/04/2027" could be 3 April 2027 or March 4, 2027; write the one you mean as 2027-04-03 or 2027-03-04',
      },
    ]);
  });
});

describe('parse: bugs fixed while writing the golden cases', () => {
  const v = version('smbeast_amr', 1);
  const tpl = templateFor('smbeast_amr', 1);

  it('a one-line answer is its first paragraph: a note after a blank line is not glued on', () => {
    const d = fillTemplate(tpl, v, (f) =>
      f.id === 'customer_name' ? 'Acme Corp\n\n(parent: Acme Holdings)' : validAnswer(f),
    );
    expect(parse(d, catalog).fields.customer_name).toBe('Acme Corp');
  });

  it('a quick action under the last confirmation does not hide a typed "yes"', () => {
    const d = fillTemplate(tpl, v).replace(/- \[x\] The customer knows.*\n/, 'Yes\n');
    expect(d).toMatch(/Yes\n\n\/label /);
    const result = parse(d, catalog);
    expect(result.fields.customer_aware_attestation).toBe(true);
    expect(result.problems).toEqual([]);
  });

  it('a typed choice is matched by its words, and a note on the next line does not spoil it', () => {
    const typed = (text: string) =>
      parse(
        fillTemplate(tpl, v).replace('- [x] GitLab.com (SaaS)\n- [ ] Self-managed\n- [ ] GitLab Dedicated', text),
        catalog,
      );
    expect(typed('Self managed').fields.deployment).toBe('self-managed');
    expect(typed('self-managed.').fields.deployment).toBe('self-managed');
    expect(typed('Self-managed\nthey run it on AWS').fields.deployment).toBe('self-managed');
    expect(typed('Self-managed\nGitLab Dedicated').problems).toEqual([
      expect.objectContaining({ field: 'deployment', code: 'too-many-choices' }),
    ]);
    expect(typed('on prem').problems).toEqual([
      expect.objectContaining({ field: 'deployment', code: 'not-an-option' }),
    ]);
  });

  it('"```x```" on one line is inline code, not a fence that swallows the rest', () => {
    const d = fillTemplate(tpl, v, (f) => (f.id === 'customer_name' ? '```Acme```' : validAnswer(f)));
    const result = parse(d, catalog);
    expect(result.fields.customer_name).toBe('Acme');
    expect(result.fields.account_owner_attestation).toBe(true); // a heading after it still counts
    expect(result.problems).toEqual([]);
  });

  it('a comment that closes and opens again on one line keeps hiding until its own end', () => {
    const { sections } = splitSections('### A\nx <!-- a\nb --> y <!-- c\n### hidden\n--> z\n### B\nw');
    expect(sections).toEqual([
      { heading: 'A', key: 'a', level: 3, lines: ['x ', ' y ', ' z'] },
      { heading: 'B', key: 'b', level: 3, lines: ['w'] },
    ]);
  });

  it('a ticked or typed option followed by a note is that option; a different word is not', () => {
    const d = fillTemplate(tpl, v)
      .replace('- [ ] Continuous integration\n', '- [x] Continuous integration (replacing CircleCI)\n')
      .replace('- [ ] Other\n\n### Customer goals', '- [x] Other: Jira integration\n\n### Customer goals')
      .replace('- [x] No\n- [ ] Yes', 'No, commercial customer')
      .replace(
        /- \[x\] Low\n- \[ \] Medium\n- \[ \] High\n- \[ \] Unknown\n\n### Propensity to expand/,
        'Not sure\n\n### Propensity to expand',
      );
    const result = parse(d, catalog);
    expect(result.fields).toMatchObject({
      use_cases: ['scm', 'ci', 'other'],
      public_sector: 'no',
      propensity_to_churn: null,
    });
    expect(result.problems).toEqual([
      {
        field: 'propensity_to_churn',
        label: 'Propensity to churn',
        code: 'not-an-option',
        message: '"Not sure" is not one of the choices (Low, Medium, High, Unknown)',
      },
    ]);
  });

  it('a typed multiselect list is split, not read as one option with a note', () => {
    const d = fillTemplate(tpl, v).replace(
      /- \[x\] Source code management\n(- \[ \] .*\n)+/,
      'Continuous integration, Agile planning\n',
    );
    expect(parse(d, catalog).fields.use_cases).toEqual(['ci', 'agile']);
  });

  it('an answer in inline code reads as its text', () => {
    const d = fillTemplate(tpl, v, (f) =>
      f.id === 'arr' ? '`$120k`' : f.id === 'timeline' ? '```Q3```' : validAnswer(f),
    );
    const result = parse(d, catalog);
    expect(result.fields).toMatchObject({ arr: 120_000, timeline: 'Q3' });
    expect(result.problems).toEqual([]);
  });

  // Each of these took seconds to hours before (regexes that backtrack on long runs of blanks).
  const N = 100_000;
  it.each<[string, string]>([
    ['blanks inside a heading', `### Customer name${' '.repeat(N)}x\n`],
    ['blanks and tabs inside a heading', `### a${' \t'.repeat(N / 2)}x\n`],
    ['dots at the end of a heading', `### ${'.'.repeat(N)}y\n`],
    ['blanks inside a number', `### Licenses purchased\n1${' '.repeat(N)}x\n`],
    ['blanks inside an amount', `### Current ARR (USD)\n1${' '.repeat(N)}x\n`],
    ['blanks inside a percentage', `### License utilization\n1${' '.repeat(N)}x\n`],
    ['blanks after "(" in a date', `### Renewal date\n(${' '.repeat(N)}x\n`],
    ['blanks inside a text answer', `### Customer name\na${' '.repeat(N)}x\n`],
    ['blanks inside a long answer', `### Customer goals and context\na${' '.repeat(N)}x\n`],
    ['blanks inside a typed multiselect', `### Use cases of interest\na${' '.repeat(N)}x\n`],
    ['comment openers', `### Plan\n${'<!--'.repeat(N / 4)}\n`],
    ['comments that close and reopen', `### Plan\n<!--\n${'--> a <!--\n'.repeat(N / 10)}`],
  ])('%s do not stall the parser', (_, body) => {
    const started = Date.now();
    const result = parse(`<!-- scale-bot:form id=ent_amr version=1 -->\n${body}`, catalog);
    expect(Date.now() - started).toBeLessThan(1500);
    expectWellFormed(result);
  });
});

describe('parse: properties', () => {
  /** Every UTF-16 code unit, lone surrogates included. */
  const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
  const LABELS = [
    'segment::mm',
    'region::amr',
    'segment::smb',
    'region::amr-east',
    'region::amr-west',
    'segment::ent',
    'bug',
    '',
  ];
  const labels = fc.option(fc.subarray(LABELS), { nil: undefined });

  it('never throws for arbitrary strings of full unicode code points, and returns well-formed problems', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), labels, (s, l) => {
        expectWellFormed(parse(s, catalog, l ? { labels: l } : {}));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws for arbitrary strings of UTF-16 code units (lone surrogates too)', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyUnit, maxLength: 300 }), (s) => {
        expectWellFormed(parse(s, catalog));
      }),
      { numRuns: 1000 },
    );
  });

  const TOKENS = [
    '### ',
    '## ',
    '# ',
    '<!--',
    '-->',
    '```',
    '~~~',
    '- [x] ',
    '- [X] ',
    '* [ ] ',
    '1. [x] ',
    '[x]',
    '\r\n',
    '\n',
    '\r',
    '\n\n',
    '(required)',
    ':',
    '**',
    '> ',
    '/label ~"segment::mm"',
    '<!-- scale-bot:form id=mm_amr version=1 -->',
    '<!-- scale-bot:form id=nope version=7 -->',
    '$1.2M',
    '-$5',
    '03/04/2027',
    '2027-02-30',
    '0.68',
    '@jane.doe',
    'Premium',
    'Self-managed',
    '\u0000',
    '\uFEFF',
    '\uD800',
    '🚢',
  ];
  const garbage = fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 12 }));
  const edits = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: garbage }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.nat({ max: 80 }) }),
    ),
    { maxLength: 25 },
  );

  it('never throws for templates with random markdown tokens and garbage spliced in', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TEMPLATES), fc.boolean(), edits, labels, (t, filled, changes, l) => {
        let text = filled ? fillTemplate(t.content, version(t.formId, t.version)) : t.content;
        for (const c of changes) {
          const at = c.at % (text.length + 1);
          text =
            c.kind === 'insert'
              ? text.slice(0, at) + c.text + text.slice(at)
              : text.slice(0, at) + text.slice(at + c.length);
        }
        expectWellFormed(parse(text, catalog, l ? { labels: l } : {}));
      }),
      { numRuns: 1000 },
    );
  });

  it('does not throw for a non-string description either', () => {
    expectWellFormed(parse(undefined as unknown as string, catalog));
    expectWellFormed(parse(null as unknown as string, catalog));
    expectWellFormed(parse(42 as unknown as string, catalog));
  });
});

describe('parse: labels alone do not make a request', () => {
  it('free text on an issue labelled segment::mm + region::amr is not a request', () => {
    const result = parse('Please help Acme with their CI migration, thanks!', exampleConfig().catalog, {
      labels: ['segment::mm', 'region::amr'],
    });
    expect(result.form).toBeNull();
    expect(result.problems.map((p) => p.code)).toEqual(['form-unknown']);
  });
});
