import { createHash } from 'node:crypto';
import type { Config } from '../domain/config.js';
import type { Field, FormVersion } from '../domain/forms.js';

/**
 * The lock of released form versions, committed with the templates: per form version, a hash of
 * each field as the parser reads it. Issues opened from a released template carry its version
 * and are parsed with it for as long as they live, so a released version must never change; a
 * change is a new version. Help text is left out: it shapes the template, not how answers parse.
 */
export const FORM_LOCK_FILE = 'scale-bot-forms.lock.json';

export interface FormLock {
  forms: Record<string, Record<string, Record<string, string>>>;
}

function fieldHash(field: Field): string {
  const { label, aliases, type, required, options, validations } = field;
  // Validations sorted by key: reordering keys in the YAML is no change.
  const rules = Object.entries(validations).sort(([a], [b]) => a.localeCompare(b));
  const text = JSON.stringify({
    label,
    aliases,
    type,
    required,
    options: options.map((o) => [o.value, o.label]),
    rules,
  });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function versionEntry(version: FormVersion): Record<string, string> {
  return Object.fromEntries(version.fields.map((f) => [f.id, fieldHash(f)]));
}

/**
 * The lock `templates generate` writes: every version of every form in the configuration, with
 * entries already locked kept as they were (so an in-place edit is still reported after a
 * generate) and forms no longer configured dropped.
 */
export function nextFormLock(config: Config, previous: FormLock | null): FormLock {
  const forms: FormLock['forms'] = {};
  for (const form of [...config.forms].sort((a, b) => a.id.localeCompare(b.id))) {
    const locked = previous?.forms[form.id] ?? {};
    const entries: Record<string, Record<string, string>> = { ...locked };
    for (const version of form.versions) entries[String(version.version)] ??= versionEntry(version);
    forms[form.id] = Object.fromEntries(Object.entries(entries).sort(([a], [b]) => Number(a) - Number(b)));
  }
  return { forms };
}

export function renderFormLock(lock: FormLock): string {
  return `${JSON.stringify(lock, null, 2)}\n`;
}

/** A released version changed in place or removed: what is wrong, in one sentence each. */
export function releasedVersionEdits(config: Config, lock: FormLock): string[] {
  const problems: string[] = [];
  for (const form of config.forms) {
    for (const [number, lockedFields] of Object.entries(lock.forms[form.id] ?? {})) {
      const version = form.versions.find((v) => String(v.version) === number);
      if (!version) {
        problems.push(
          `form ${form.id} version ${number} was released and is gone from the configuration: issues opened from it would no longer parse; restore it`,
        );
        continue;
      }
      const now = versionEntry(version);
      const changed = [
        ...Object.keys(lockedFields)
          .filter((id) => id in now && now[id] !== lockedFields[id])
          .map((id) => `${id} (changed)`),
        ...Object.keys(now)
          .filter((id) => !(id in lockedFields))
          .map((id) => `${id} (added)`),
        ...Object.keys(lockedFields)
          .filter((id) => !(id in now))
          .map((id) => `${id} (removed)`),
      ];
      if (changed.length > 0) {
        const next = Math.max(...form.versions.map((v) => v.version)) + 1;
        problems.push(
          `form ${form.id} version ${number} was released and is edited in place: ${changed.join(', ')}; ` +
            `restore version ${number} and add the change as version ${next}`,
        );
      }
    }
  }
  return problems;
}
