import { slug, type Field, type Form, type FormCatalog, type FormVersion } from './forms.js';
import { readFormMarker } from './form-marker.js';
import { normalizeHeading, splitSections, type Section } from './markdown-sections.js';
import type { DetectedForm, FieldValue, ParsedRequest, Problem } from './request.js';
import { readCurrency, readDate, readNumber, readPercent, readUrl, readUser, truncate, type Read } from './values.js';
import { validateRequest } from './validate.js';

export interface ParseContext {
  /** The labels: recognise the form from its segment/region labels when the marker is gone. */
  labels?: readonly string[];
}

interface FormIndex {
  form: Form;
  titleKey: string;
  /** Per version: normalised heading → field, and each field's normalised label and aliases. */
  versions: Array<{
    version: FormVersion;
    headings: Map<string, Field>;
    keys: Array<{ label: string; aliases: string[] }>;
    own: Set<string>;
  }>;
  /** Every heading any version of this form used, so an old heading still fills the field. */
  anyVersion: Map<string, string>;
}

const indexCache = new WeakMap<FormCatalog, FormIndex[]>();

function indexCatalog(catalog: FormCatalog): FormIndex[] {
  const cached = indexCache.get(catalog);
  if (cached) return cached;
  const index = catalog.forms.map((form) => {
    const anyVersion = new Map<string, string>();
    const versions = form.versions.map((version) => {
      const headings = new Map<string, Field>();
      for (const field of version.fields) {
        for (const h of [field.label, ...field.aliases]) {
          headings.set(normalizeHeading(h), field);
          if (!anyVersion.has(normalizeHeading(h))) anyVersion.set(normalizeHeading(h), field.id);
        }
      }
      const keys = version.fields.map((f) => ({
        label: normalizeHeading(f.label),
        aliases: f.aliases.map(normalizeHeading),
      }));
      return { version, headings, keys, own: new Set(version.fields.map((f) => f.id)) };
    });
    return { form, titleKey: normalizeHeading(form.title), versions, anyVersion };
  });
  indexCache.set(catalog, index);
  return index;
}

const orders = new WeakMap<FormVersion, Map<string, number>>();
function fieldOrder(version: FormVersion): Map<string, number> {
  let order = orders.get(version);
  if (!order) orders.set(version, (order = new Map(version.fields.map((f, i) => [f.id, i]))));
  return order;
}

/**
 * Parses an issue description into the typed fields of the form it was made from. Never throws:
 * whatever is wrong with the description comes back as problems.
 */
export function parse(description: string, catalog: FormCatalog, context: ParseContext = {}): ParsedRequest {
  const text = typeof description === 'string' ? description : '';
  const index = indexCatalog(catalog);
  const { sections } = splitSections(text);
  const problems: Problem[] = [];

  const found = detectForm(text, sections, index, catalog, context, problems);
  if (!found) {
    if (problems.some((p) => p.code === 'form-unknown')) return { form: null, fields: {}, problems };
    problems.push({
      field: null,
      label: null,
      code: 'form-unknown',
      message:
        'this description was not made from a Scale Engagement Request template (or the template was changed too much); open a new issue from one of the templates',
    });
    return { form: null, fields: {}, problems };
  }

  const { entry, version, detectedBy } = found;
  const fields: Record<string, FieldValue | null> = {};
  const answers = collectAnswers(sections, entry, version);
  for (const field of version.version.fields) {
    const lines = answers.get(field.id);
    fields[field.id] = lines ? readField(field, lines, problems) : null;
  }
  const form: DetectedForm = {
    id: entry.form.id,
    version: version.version.version,
    title: entry.form.title,
    segment: entry.form.segment,
    region: entry.form.region,
    detectedBy,
  };
  problems.push(...validateRequest(version.version, fields, problems));
  // Report problems in the order the template asks the questions.
  const order = fieldOrder(version.version);
  problems.sort(
    (a, b) => (a.field === null ? -1 : order.get(a.field)!) - (b.field === null ? -1 : order.get(b.field)!),
  );
  return { form, fields, problems };
}

/** The form a description was made from, and how it was recognised. */
interface FoundForm {
  entry: FormIndex;
  version: FormIndex['versions'][number];
  detectedBy: DetectedForm['detectedBy'];
}

function detectForm(
  text: string,
  sections: Section[],
  index: FormIndex[],
  catalog: FormCatalog,
  context: ParseContext,
  problems: Problem[],
): FoundForm | null {
  const marker = readFormMarker(text);
  if (marker) {
    const entry = index.find((e) => e.form.id === marker.id);
    if (entry) {
      const version = entry.versions.find((v) => v.version.version === marker.version);
      if (version) return { entry, version, detectedBy: 'marker' };
      problems.push({
        field: null,
        label: null,
        code: 'form-version-unknown',
        message: `the template marker names version ${marker.version} of "${marker.id}", which this bot does not know; read with the version whose headings match best`,
      });
      return { entry, version: bestVersion(entry, sections), detectedBy: 'marker' };
    }
  }
  const labelled = byLabels(text, sections, index, catalog, context);
  if (labelled) return labelled;
  const titled = index.find((e) => sections.some((s) => s.key === e.titleKey));
  if (titled) return { entry: titled, version: bestVersion(titled, sections), detectedBy: 'title' };
  return byHeadings(sections, index, problems);
}

/** The form the segment and region labels name, when the description still reads as that form. */
function byLabels(
  text: string,
  sections: Section[],
  index: FormIndex[],
  catalog: FormCatalog,
  context: ParseContext,
): FoundForm | null {
  const labels = new Set((context.labels ?? []).map((l) => l.toLowerCase()));
  if (labels.size === 0) return null;
  const entry = index.find(
    (e) =>
      labels.has(catalog.segmentLabel(e.form.segment).toLowerCase()) &&
      labels.has(catalog.regionLabel(e.form.region).toLowerCase()),
  );
  if (!entry) return null;
  const version = bestVersion(entry, sections);
  // Labels say which form. An emptied description is still that request (every answer is
  // missing), but free text without any of the form's headings is not one.
  return text.trim() === '' || headingScore(version.headings, sections) > 0
    ? { entry, version, detectedBy: 'labels' }
    : null;
}

/** Last resort: the form whose headings match best, if it clearly wins. */
function byHeadings(sections: Section[], index: FormIndex[], problems: Problem[]): FoundForm | null {
  let best: { entry: FormIndex; version: FormIndex['versions'][number]; score: number } | null = null;
  let tied: FormIndex[] = [];
  for (const entry of index) {
    const version = bestVersion(entry, sections);
    const score = headingScore(version.headings, sections);
    if (!best || score > best.score) {
      best = { entry, version, score };
      tied = [];
    } else if (score === best.score) tied.push(entry);
  }
  if (!best || best.score < Math.min(3, best.version.version.fields.length)) return null;
  if (tied.length > 0) {
    // Why its own message: the description does follow a template, but several forms share these
    // headings (mm_amr, smbeast_amr, smbwest_amr); "not made from a template" would be wrong.
    const titles = [best.entry, ...tied].map((e) => `"${e.form.title}"`).join(', ');
    problems.push({
      field: null,
      label: null,
      code: 'form-unknown',
      message: `the hidden template marker was removed, so the bot cannot tell which form this is (it could be ${titles}); add the segment and region labels, or open a new issue from the right template`,
    });
    return null;
  }
  return { entry: best.entry, version: best.version, detectedBy: 'headings' };
}

function headingScore(headings: Map<string, Field>, sections: Section[]): number {
  const hit = new Set<string>();
  for (const s of sections) {
    const field = headings.get(s.key);
    if (field) hit.add(field.id);
  }
  return hit.size;
}

/**
 * The version whose headings match the description best; the newest wins a tie. A field counts 2 when
 * its label is a heading, 1 when only an alias is; a heading of a field this version lacks counts -1.
 * Why: the old score subtracted every field without a heading, so with little or nothing filled in
 * the version with fewer fields (mm_amr v1) beat the newest one.
 */
function bestVersion(entry: FormIndex, sections: Section[]): FormIndex['versions'][number] {
  const present = new Set(sections.map((s) => s.key));
  let best = entry.versions[0]!;
  let bestScore = -Infinity;
  for (const v of entry.versions) {
    let score = 0;
    for (const f of v.keys) {
      if (present.has(f.label)) score += 2;
      else if (f.aliases.some((a) => present.has(a))) score += 1;
    }
    for (const h of present) {
      const id = entry.anyVersion.get(h);
      if (id !== undefined && !v.own.has(id)) score -= 1;
    }
    if (score > bestScore) {
      best = v;
      bestScore = score;
    }
  }
  return best;
}

/** Answer lines per field id; the first section with an answer wins when a heading repeats. */
function collectAnswers(
  sections: Section[],
  entry: FormIndex,
  version: FormIndex['versions'][number],
): Map<string, string[]> {
  const answers = new Map<string, string[]>();
  const wanted = new Set(version.version.fields.map((f) => f.id));
  for (const s of sections) {
    const id = version.headings.get(s.key)?.id ?? entry.anyVersion.get(s.key);
    if (!id || !wanted.has(id)) continue;
    const existing = answers.get(id);
    if (existing && existing.some((l) => l.trim() !== '')) continue;
    answers.set(id, s.lines);
  }
  return answers;
}

const TASK = /^\s*(?:[-*+]|\d{1,9}[.)])\s+\[( |x|X|~)\]\s*(.*)$/;

/** Drops list bullets, emphasis, inline-code and quote markers around a short answer. */
/** Characters that can start or end the markup `cleanLine` strips; other lines only need trimming. */
const MARKUP_EDGE = /^\s*[>*+\-_`\d]|[*_`]\s*$/;

function cleanLine(line: string): string {
  if (!MARKUP_EDGE.test(line)) return line.trim();
  return (
    line
      .replace(/^\s*>\s?/, '')
      .replace(/^\s*(?:[-*+]|\d{1,9}[.)])\s+/, '')
      .replace(/^(\*\*|__)(.*)\1$/, '$2')
      .replace(/^([*_])(.*)\1$/, '$2')
      // Inline code (`Acme`, ```Q3```) is the text inside, as emphasis is. Why: "`$120k`" was "not an amount".
      .replace(/^(`+)([^`]+)\1$/, '$2')
      .trim()
  );
}

function answerText(lines: string[]): string[] {
  return lines.map(cleanLine).filter((l) => l !== '');
}

function problemFor(field: Field, code: Problem['code'], message: string): Problem {
  return { field: field.id, label: field.label, code, message };
}

function readField(field: Field, lines: string[], problems: Problem[]): FieldValue | null {
  switch (field.type) {
    case 'select':
    case 'multiselect':
    case 'checkbox':
      return readChoice(field, lines, problems);
    case 'textarea': {
      const body = trimBlank(lines).join('\n');
      return body.trim() === '' ? null : body;
    }
    case 'text': {
      // A one-line answer: its first paragraph. Why: a note written after a blank line ("Acme Corp",
      // then "(parent account is Acme Holdings)") was glued onto the name or the account link.
      const body = answerText(firstParagraph(lines)).join(' ');
      return body === '' ? null : body;
    }
    default:
      return readScalar(field, answerText(lines), problems);
  }
}

function firstParagraph(lines: string[]): string[] {
  const body = trimBlank(lines);
  const blank = body.findIndex((l) => l.trim() === '');
  return blank < 0 ? body : body.slice(0, blank);
}

function trimBlank(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]!.trim() === '') start++;
  while (end > start && lines[end - 1]!.trim() === '') end--;
  // trimEnd, not /\s+$/: that regex is quadratic on a long run of blanks inside a line.
  return lines.slice(start, end).map((l) => l.trimEnd());
}

const SCALAR_READERS: Record<string, (s: string) => Read<FieldValue>> = {
  number: readNumber,
  currency: readCurrency,
  percent: readPercent,
  date: readDate,
  url: readUrl,
  user: readUser,
};

/**
 * One value per field. When the whole answer does not read, each line is tried on its own, so a
 * value followed by an explanation ("$1.2M" then "per the last QBR") still counts.
 */
function readScalar(field: Field, lines: string[], problems: Problem[]): FieldValue | null {
  if (lines.length === 0) return null;
  const reader = SCALAR_READERS[field.type]!;
  const whole = reader(lines.join(' '));
  if ('value' in whole) return whole.value;
  for (const line of lines) {
    const r = reader(line);
    if ('value' in r) return r.value;
  }
  // Report the first line's error: it is the one the person most likely meant as the answer.
  const first = reader(lines[0]!);
  const message = 'error' in first ? first.error : whole.error;
  problems.push(
    problemFor(field, message.startsWith('"') && message.includes('could be') ? 'ambiguous' : 'invalid', message),
  );
  return null;
}

const YES = /^(yes|y|true|x|✓|✔|agreed|confirmed|i agree|i confirm)$/i;
const NO = /^(no|n|false)$/i;

interface OptionKeys {
  value: string;
  label: string;
  lowerValue: string;
  labelSlug: string;
  valueSlug: string;
}

/** Options in the forms the matcher compares, computed once per field (longest label first). */
const optionKeys = new WeakMap<Field, OptionKeys[]>();
function keysOf(field: Field): OptionKeys[] {
  let keys = optionKeys.get(field);
  if (!keys) {
    keys = field.options
      .map((o) => ({
        value: o.value,
        label: normalizeHeading(o.label),
        lowerValue: o.value.toLowerCase(),
        labelSlug: slug(o.label),
        valueSlug: slug(o.value),
      }))
      .sort((a, b) => b.label.length - a.label.length);
    optionKeys.set(field, keys);
  }
  return keys;
}

function matchOption(field: Field, text: string, allowNote = true): string | null {
  const t = normalizeHeading(text);
  const keys = keysOf(field);
  for (const o of keys) {
    if (o.label === t || o.lowerValue === t) return o.value;
  }
  // Why: "Self managed" or "self-managed." name the option as clearly as its label does; compare
  // the words only, ignoring punctuation and spacing (never a partial word or a guess).
  const words = slug(text);
  if (words === '') return null;
  for (const o of keys) if (o.labelSlug === words || o.valueSlug === words) return o.value;
  if (!allowNote) return null;
  // Why: "Other: Jira integration" or "Continuous integration (replacing CircleCI)" is that option
  // with a note; the whole label must come first, then a separator (so "Not sure" is not "No").
  for (const o of keys) {
    if (t.startsWith(o.label) && /^\s*[:(,;–—-]/.test(t.slice(o.label.length))) return o.value;
  }
  return null;
}

/** A GitLab quick action line (`/label ~"segment::mm"`), which is an instruction, not an answer. */
const QUICK_ACTION = /^\s*\/[a-z_]+(?:\s|$)/;

/** Task lists (`- [x] Option`, `[X]`, numbered, `*`/`+` bullets); typed answers are matched too. */
function readChoice(field: Field, lines: string[], problems: Problem[]): FieldValue | null {
  const ticked: string[] = [];
  let sawTask = false;
  const prose: string[] = [];
  // Quick actions are skipped. Why: the template's `/label …` line sits under the last (checkbox)
  // field, so a typed "yes" above it read as "yes /label …" and the confirmation was lost.
  for (const line of lines) {
    const m = TASK.exec(line);
    if (m) {
      sawTask = true;
      if (m[1] === 'x' || m[1] === 'X') ticked.push(m[2]!.trim());
    } else if (line.trim() !== '' && !QUICK_ACTION.test(line)) prose.push(cleanLine(line));
  }

  if (field.type === 'checkbox') {
    if (ticked.length > 0) return true;
    if (!sawTask) {
      const said = prose.join(' ').trim();
      // Per line too, so "Yes" followed by a note still confirms; a yes and a no together do not.
      const yes = YES.test(said) || prose.some((l) => YES.test(l));
      const no = NO.test(said) || prose.some((l) => NO.test(l));
      if (yes && !no) return true;
    }
    return sawTask || prose.length > 0 ? false : null;
  }

  // Typed instead of ticked: "Self-managed", or "Premium, Ultimate" for a multiselect.
  const candidates = ticked.length > 0 || sawTask ? ticked : typedChoices(field, prose);
  const values: string[] = [];
  for (const c of candidates) {
    const value = matchOption(field, c);
    if (value === null) {
      problems.push(
        problemFor(
          field,
          'not-an-option',
          `"${truncate(c)}" is not one of the choices (${field.options.map((o) => o.label).join(', ')})`,
        ),
      );
    } else if (!values.includes(value)) values.push(value);
  }
  if (field.type === 'select') {
    if (values.length > 1) {
      problems.push(problemFor(field, 'too-many-choices', `tick only one choice (ticked: ${values.length})`));
      return null;
    }
    return values[0] ?? null;
  }
  return values.length > 0 ? values : null;
}

function typedChoices(field: Field, prose: string[]): string[] {
  const whole = prose.join(' ').trim();
  if (whole === '') return [];
  // A multiselect's typed list ("Continuous integration, Agile planning") must not read as one option with a note.
  if (matchOption(field, whole, field.type === 'select') !== null) return [whole];
  if (field.type === 'select') {
    // Why per line: a typed choice followed by a note ("Self-managed", then "on AWS") is still that choice.
    const named = prose.filter((l) => matchOption(field, l) !== null);
    return named.length > 0 ? named : [whole];
  }
  // Split then trim. Why not /\s*[,;]\s*/: it is quadratic on long runs of blanks without a comma.
  return whole
    .split(/[,;\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
