import type { Field, FormVersion } from './forms.js';
import type { FieldValue, Problem } from './request.js';

function fmt(field: Field, n: number): string {
  if (field.type === 'currency') return `$${n.toLocaleString('en-US')}`;
  if (field.type === 'percent') return `${n}%`;
  return n.toLocaleString('en-US');
}

function missing(field: Field): [Problem['code'], string] {
  switch (field.type) {
    case 'checkbox':
      return ['not-confirmed', confirmMessage(field)];
    case 'select':
      return ['missing', 'tick one of the choices'];
    case 'multiselect':
      return ['missing', 'tick at least one choice'];
    default:
      return ['missing', 'this is required'];
  }
}

function confirmMessage(field: Field): string {
  return `tick the box to confirm: "${field.options[0]?.label ?? field.label}"`;
}

const patterns = new Map<string, RegExp>();
function pattern(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) patterns.set(source, (re = new RegExp(source, 'u')));
  return re;
}

/**
 * Checks typed values against the form: required fields, limits, patterns, date order. Fields that
 * already have a reading problem are not reported again as missing.
 */
export function validateRequest(
  version: FormVersion,
  fields: Record<string, FieldValue | null>,
  already: readonly Problem[] = [],
): Problem[] {
  const problems: Problem[] = [];
  const flagged = new Set(already.map((p) => p.field));
  const add = (field: Field, code: Problem['code'], message: string) =>
    problems.push({ field: field.id, label: field.label, code, message });

  for (const field of version.fields) {
    const value = fields[field.id] ?? null;
    const v = field.validations;
    if (value === null) {
      if (field.required && !flagged.has(field.id)) add(field, ...missing(field));
      continue;
    }
    if (field.type === 'checkbox') {
      if (field.required && value !== true) add(field, 'not-confirmed', confirmMessage(field));
      continue;
    }
    if (typeof value === 'number') {
      if (v.integer && !Number.isInteger(value)) add(field, 'invalid', 'must be a whole number');
      if (v.min !== undefined && value < v.min) add(field, 'out-of-range', `must be at least ${fmt(field, v.min)}`);
      if (v.max !== undefined && value > v.max) add(field, 'out-of-range', `must be at most ${fmt(field, v.max)}`);
    }
    if (typeof value === 'string' && (field.type === 'text' || field.type === 'textarea' || field.type === 'url')) {
      if (v.minLength !== undefined && value.trim().length < v.minLength) {
        add(field, 'too-short', `please say more (at least ${v.minLength} characters)`);
      }
      if (v.maxLength !== undefined && value.length > v.maxLength)
        add(field, 'too-long', `keep it under ${v.maxLength} characters`);
      if (v.pattern !== undefined && !pattern(v.pattern).test(value.trim())) {
        add(field, 'pattern', v.patternMessage ?? 'is not in the expected format');
      }
    }
    if (field.type === 'date' && typeof value === 'string' && v.after) {
      const other = fields[v.after];
      const otherField = version.fields.find((f) => f.id === v.after);
      if (typeof other === 'string' && value <= other) {
        add(field, 'order', `must be after the ${otherField?.label.toLowerCase() ?? v.after} (${other})`);
      }
    }
  }
  return problems;
}
