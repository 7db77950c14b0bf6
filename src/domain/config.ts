import type { z } from 'zod';
import { configSchema, SIGNALS, type ParsedConfig, type Person, type Condition } from './config-schema.js';
import { scopeClashes } from './label-scope.js';
import { compileForms, optionFromConfig, slug, type CompileProblem, type Form, type FormCatalog } from './forms.js';

/** The validated, compiled configuration every pure function takes as a parameter. */
export interface Config extends Omit<ParsedConfig, 'forms'> {
  forms: Form[];
  catalog: FormCatalog;
  person: (username: string) => Person | undefined;
}

export type CompileResult = { ok: true; config: Config } | { ok: false; problems: CompileProblem[] };

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

function zodProblems(error: z.ZodError): CompileProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * Validates a parsed YAML document: first its shape (zod), then what zod cannot see — references
 * between sections (fields, segments, regions, people, pools). Every problem is reported, none thrown.
 */
export function compileConfig(raw: unknown): CompileResult {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
  const cfg = parsed.data;
  const problems: CompileProblem[] = [];
  const forms = compileForms(cfg, problems);
  checkFields(cfg, problems);
  checkForms(cfg, forms, problems);
  const people = checkPeople(cfg, problems);
  checkRouting(cfg, people, problems);
  checkCoverage(cfg, forms, people, problems);
  checkRules(cfg, problems);
  problems.push(...scopeClashes(cfg.labels));
  if (problems.length > 0) return { ok: false, problems };

  const labels = cfg.labels;
  const config: Config = {
    ...cfg,
    forms,
    catalog: {
      forms,
      segmentLabel: (segment) => `${labels.segment}::${segment}`,
      regionLabel: (region) => `${labels.region}::${region}`,
    },
    person: (username) => people.get(username.toLowerCase()),
  };
  return { ok: true, config };
}

function checkFields(cfg: ParsedConfig, problems: CompileProblem[]): void {
  for (const [fieldId, field] of Object.entries(cfg.fields)) {
    const at = `fields.${fieldId}`;
    const choosing = field.type === 'select' || field.type === 'multiselect';
    if (choosing && (!field.options || field.options.length === 0)) {
      problems.push({ path: `${at}.options`, message: `a ${field.type} field needs options` });
    }
    if (!choosing && field.options && field.type !== 'checkbox') {
      problems.push({
        path: `${at}.options`,
        message: `options only apply to select, multiselect and checkbox fields`,
      });
    }
    if (field.type === 'checkbox' && field.options && field.options.length !== 1) {
      problems.push({
        path: `${at}.options`,
        message: 'a checkbox field has exactly one option (the statement to tick)',
      });
    }
    const values = new Set<string>();
    (field.options ?? []).forEach((o, i) => {
      const value = typeof o === 'string' ? o.toLowerCase() : o.value;
      if (values.has(value))
        problems.push({ path: `${at}.options[${i}]`, message: `option "${value}" is listed twice` });
      values.add(value);
    });
    const v = field.validations;
    if (v.min !== undefined && v.max !== undefined && v.min > v.max) {
      problems.push({ path: `${at}.validations`, message: `min (${v.min}) is greater than max (${v.max})` });
    }
    if (v.after !== undefined) {
      const other = cfg.fields[v.after];
      if (field.type !== 'date')
        problems.push({ path: `${at}.validations.after`, message: 'only date fields can use "after"' });
      else if (!other || other.type !== 'date') {
        problems.push({ path: `${at}.validations.after`, message: `"${v.after}" is not a date field` });
      }
    }
  }
  for (const [key, fieldId] of Object.entries(cfg.fieldMap)) {
    if (!cfg.fields[fieldId]) problems.push({ path: `fieldMap.${key}`, message: `unknown field "${fieldId}"` });
  }
}

function checkForms(cfg: ParsedConfig, forms: Form[], problems: CompileProblem[]): void {
  const bySegmentRegion = new Map<string, string>();
  for (const form of forms) {
    const at = `forms.${form.id}`;
    if (!cfg.segments[form.segment])
      problems.push({ path: `${at}.segment`, message: `unknown segment "${form.segment}"` });
    if (!cfg.regions[form.region]) problems.push({ path: `${at}.region`, message: `unknown region "${form.region}"` });
    const key = `${form.segment}/${form.region}`;
    const other = bySegmentRegion.get(key);
    if (other) {
      problems.push({
        path: at,
        message: `forms "${other}" and "${form.id}" both cover ${key}; one form per segment and region`,
      });
    }
    bySegmentRegion.set(key, form.id);
    for (const version of form.versions) {
      const labels = new Map<string, string>();
      for (const field of version.fields) {
        for (const heading of [field.label, ...field.aliases]) {
          const norm = heading.trim().toLowerCase();
          const clash = labels.get(norm);
          if (clash && clash !== field.id) {
            problems.push({
              path: `${at}.versions`,
              message: `version ${version.version}: fields "${clash}" and "${field.id}" share the heading "${heading}"`,
            });
          }
          labels.set(norm, field.id);
        }
        const after = field.validations.after;
        if (after && !version.fields.some((f) => f.id === after)) {
          problems.push({
            path: `${at}.versions`,
            message: `version ${version.version}: field "${field.id}" must be after "${after}", which this version lacks`,
          });
        }
      }
    }
  }
}

function checkPeople(cfg: ParsedConfig, problems: CompileProblem[]): Map<string, Person> {
  const people = new Map<string, Person>();
  cfg.people.forEach((person, i) => {
    const at = `people[${i}]`;
    const key = person.username.toLowerCase();
    if (people.has(key)) problems.push({ path: `${at}.username`, message: `"${person.username}" is listed twice` });
    people.set(key, person);
    person.segments.forEach((s, j) => {
      if (!cfg.segments[s]) problems.push({ path: `${at}.segments[${j}]`, message: `unknown segment "${s}"` });
    });
    person.regions.forEach((r, j) => {
      if (!cfg.regions[r]) problems.push({ path: `${at}.regions[${j}]`, message: `unknown region "${r}"` });
    });
    person.outOfOffice.forEach((w, j) => {
      if (w.to < w.from)
        problems.push({ path: `${at}.outOfOffice[${j}]`, message: `ends (${w.to}) before it starts (${w.from})` });
    });
  });
  return people;
}

function checkRouting(cfg: ParsedConfig, people: Map<string, Person>, problems: CompileProblem[]): void {
  const hasRole = (username: string, role: Person['roles'][number]) =>
    people.get(username.toLowerCase())?.roles.includes(role) ?? false;
  const checkDuplicates = (list: string[], at: string) => {
    const seen = new Set<string>();
    list.forEach((u, j) => {
      if (seen.has(u.toLowerCase())) problems.push({ path: `${at}[${j}]`, message: `"${u}" is listed twice` });
      seen.add(u.toLowerCase());
    });
  };
  const checkChain = (chain: string[], at: string) => {
    checkDuplicates(chain, at);
    chain.forEach((u, j) => {
      if (!people.has(u.toLowerCase())) problems.push({ path: `${at}[${j}]`, message: `"${u}" is not in people` });
    });
    const last = chain[chain.length - 1];
    if (last !== undefined && people.has(last.toLowerCase()) && !hasRole(last, 'manager')) {
      problems.push({
        path: `${at}[${chain.length - 1}]`,
        message: `the chain must end at a manager; "${last}" is not one`,
      });
    }
  };
  const seen = new Set<string>();
  cfg.routing.pools.forEach((pool, i) => {
    const at = `routing.pools[${i}]`;
    if (!cfg.segments[pool.segment])
      problems.push({ path: `${at}.segment`, message: `unknown segment "${pool.segment}"` });
    if (!cfg.regions[pool.region]) problems.push({ path: `${at}.region`, message: `unknown region "${pool.region}"` });
    const key = `${pool.segment}/${pool.region}`;
    if (seen.has(key)) problems.push({ path: at, message: `a second pool for ${key}` });
    seen.add(key);
    checkDuplicates(pool.members, `${at}.members`);
    pool.members.forEach((u, j) => {
      if (!people.has(u.toLowerCase()))
        problems.push({ path: `${at}.members[${j}]`, message: `"${u}" is not in people` });
      else if (!hasRole(u, 'cse')) problems.push({ path: `${at}.members[${j}]`, message: `"${u}" is not a cse` });
    });
    checkChain(pool.backup, `${at}.backup`);
  });
  checkChain(cfg.routing.fallback, 'routing.fallback');
}

/**
 * Routing that cannot work as written: a form whose requests no pool takes (all of them would go to
 * the fallback list), and a pool member whose own segments or regions leave the pool out (an empty
 * list restricts nothing).
 */
function checkCoverage(
  cfg: ParsedConfig,
  forms: Form[],
  people: Map<string, Person>,
  problems: CompileProblem[],
): void {
  const pooled = new Set(cfg.routing.pools.map((p) => `${p.segment}/${p.region}`));
  for (const form of forms) {
    const key = `${form.segment}/${form.region}`;
    if (!pooled.has(key))
      problems.push({ path: `forms.${form.id}`, message: `no routing pool covers ${key}; add one to routing.pools` });
  }
  cfg.routing.pools.forEach((pool, i) => {
    pool.members.forEach((u, j) => {
      const person = people.get(u.toLowerCase());
      if (!person) return;
      const outside = [
        person.segments.length > 0 && !person.segments.includes(pool.segment)
          ? `segments [${person.segments.join(', ')}]`
          : null,
        person.regions.length > 0 && !person.regions.includes(pool.region)
          ? `regions [${person.regions.join(', ')}]`
          : null,
      ].filter((x) => x !== null);
      if (outside.length > 0) {
        problems.push({
          path: `routing.pools[${i}].members[${j}]`,
          message: `"${u}" is listed for ${pool.segment}/${pool.region}, but their ${outside.join(' and ')} leave it out`,
        });
      }
    });
  });
}

function checkRules(cfg: ParsedConfig, problems: CompileProblem[]): void {
  const known = new Set<string>(SIGNALS);
  const checkCondition = (cond: Condition, at: string) => {
    const list = 'any' in cond ? cond.any : cond.all;
    const key = 'any' in cond ? 'any' : 'all';
    list.forEach((s, i) => {
      if (!known.has(s)) {
        problems.push({ path: `${at}.${key}[${i}]`, message: `unknown signal "${s}"; known: ${SIGNALS.join(', ')}` });
      }
    });
  };
  const p = cfg.rules.priority;
  const levels = new Set(p.levels);
  p.rules.forEach((rule, i) => {
    checkCondition(rule.when, `rules.priority.rules[${i}].when`);
    if (!levels.has(rule.then))
      problems.push({
        path: `rules.priority.rules[${i}].then`,
        message: `"${rule.then}" is not one of the priority levels`,
      });
  });
  if (!levels.has(p.default))
    problems.push({ path: 'rules.priority.default', message: `"${p.default}" is not one of the priority levels` });
  for (const [flag, cond] of Object.entries(cfg.rules.flags)) checkCondition(cond, `rules.flags.${flag}`);

  // Values the rules compare with must be options of the mapped field, or a typo never fires.
  const checkValues = (
    key: 'churnPropensity' | 'expandPropensity',
    fieldKey: 'churnPropensity' | 'expandPropensity',
  ) => {
    const field = cfg.fields[cfg.fieldMap[fieldKey]];
    if (!field?.options) return;
    const values = new Set(field.options.map((o) => optionFromConfig(o).value));
    cfg.rules[key].forEach((v, i) => {
      if (!values.has(slug(v))) {
        problems.push({
          path: `rules.${key}[${i}]`,
          message: `"${v}" is not an option of field "${cfg.fieldMap[fieldKey]}"`,
        });
      }
    });
  };
  checkValues('churnPropensity', 'churnPropensity');
  checkValues('expandPropensity', 'expandPropensity');
}
