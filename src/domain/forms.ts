import type { FieldDefinition, FieldRef, FieldType, ParsedConfig } from './config-schema.js';

/** Forms compiled from the configuration: every field reference resolved, versions newest first. */

export interface FieldOption {
  value: string;
  label: string;
}

export interface Field {
  id: string;
  label: string;
  type: FieldType;
  required: boolean;
  help?: string;
  options: FieldOption[];
  aliases: string[];
  validations: FieldDefinition['validations'];
}

export interface FormVersion {
  formId: string;
  version: number;
  fields: Field[];
}

export interface Form {
  id: string;
  title: string;
  description?: string;
  segment: string;
  region: string;
  /** Newest first; `versions[0]` is the one templates are generated from. */
  versions: FormVersion[];
}

export interface FormCatalog {
  forms: Form[];
  /** Label names used to recognise a form from its segment/region labels when the marker is gone. */
  segmentLabel: (segment: string) => string;
  regionLabel: (region: string) => string;
}

export interface CompileProblem {
  path: string;
  message: string;
  /** Where in the YAML text (1-based), when the problem was found in a file. */
  line?: number;
  column?: number;
}

export function latestVersion(form: Form): FormVersion {
  // Compilation guarantees at least one version.
  return form.versions[0]!;
}

export function optionFromConfig(option: string | { value: string; label: string }): FieldOption {
  if (typeof option !== 'string') return option;
  return { value: slug(option), label: option };
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Resolves fieldsets and overrides for each version of each form. Problems (unknown field,
 * unknown fieldset, a fieldset that includes itself, a field listed twice) are collected, not thrown.
 */
export function compileForms(config: ParsedConfig, problems: CompileProblem[]): Form[] {
  const forms: Form[] = [];
  for (const [formId, form] of Object.entries(config.forms)) {
    const seen = new Set<number>();
    const versions: FormVersion[] = [];
    form.versions.forEach((v, vi) => {
      const path = `forms.${formId}.versions[${vi}]`;
      if (seen.has(v.version))
        problems.push({ path: `${path}.version`, message: `version ${v.version} is declared twice` });
      seen.add(v.version);
      const fields = resolveRefs(config, v.fields, `${path}.fields`, problems, []);
      const ids = new Set<string>();
      for (const f of fields) {
        if (ids.has(f.id)) problems.push({ path: `${path}.fields`, message: `field "${f.id}" is listed twice` });
        ids.add(f.id);
      }
      versions.push({ formId, version: v.version, fields });
    });
    versions.sort((a, b) => b.version - a.version);
    forms.push({
      id: formId,
      title: form.title,
      ...(form.description === undefined ? {} : { description: form.description }),
      segment: form.segment,
      region: form.region,
      versions,
    });
  }
  return forms;
}

function resolveRefs(
  config: ParsedConfig,
  refs: FieldRef[],
  path: string,
  problems: CompileProblem[],
  fieldsetStack: string[],
): Field[] {
  const out: Field[] = [];
  refs.forEach((ref, i) => {
    const at = `${path}[${i}]`;
    if (typeof ref === 'object' && 'fieldset' in ref) {
      const set = config.fieldsets[ref.fieldset];
      if (!set) {
        problems.push({
          path: `${at}.fieldset`,
          message: `unknown fieldset "${ref.fieldset}" (declare it under fieldsets)`,
        });
      } else if (fieldsetStack.includes(ref.fieldset)) {
        problems.push({ path: `${at}.fieldset`, message: `fieldset "${ref.fieldset}" includes itself` });
      } else {
        out.push(...resolveRefs(config, set, `fieldsets.${ref.fieldset}`, problems, [...fieldsetStack, ref.fieldset]));
      }
      return;
    }
    const fieldId = typeof ref === 'string' ? ref : ref.field;
    const def = config.fields[fieldId];
    if (!def) {
      problems.push({
        path: typeof ref === 'string' ? at : `${at}.field`,
        message: `unknown field "${fieldId}" (declare it under fields)`,
      });
      return;
    }
    const override: { label?: string; required?: boolean; help?: string; aliases?: string[] } =
      typeof ref === 'string' ? {} : ref;
    const help = override.help ?? def.help;
    out.push({
      id: fieldId,
      label: override.label ?? def.label,
      type: def.type,
      required: override.required ?? def.required,
      ...(help === undefined ? {} : { help }),
      options: (def.options ?? []).map(optionFromConfig),
      aliases: override.aliases ?? def.aliases,
      validations: def.validations,
    });
  });
  return out;
}
