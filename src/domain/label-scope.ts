import type { LabelNames } from './config-schema.js';

/**
 * GitLab's scoped labels (Premium and up): `scope::value`, and `a::b::value` has the scope `a::b`
 * (everything before the last `::`). An issue holds one label per scope: adding one removes the
 * others (docs: user/project/labels.md#scoped-labels).
 */
export function labelScope(name: string): string | null {
  const at = name.lastIndexOf('::');
  return at > 0 ? name.slice(0, at) : null;
}

/** The value of the label in `scope` (`engagement` → `assigned` for `engagement::assigned`), or null. */
export function scopedValue(labels: readonly string[], scope: string): string | null {
  const prefix = `${scope}::`.toLowerCase();
  const found = labels.find((l) => l.toLowerCase().startsWith(prefix));
  return found ? found.slice(prefix.length) : null;
}

/** Label names (YAML path under `labels`) that must coexist on a request: the scopes the bot sets one value of, then single labels. */
const SCOPE_KEYS = ['engagement', 'form', 'segment', 'region', 'priority'] as const;
const SINGLE_KEYS = ['escalationCandidate', 'atRisk', 'duplicate', 'override'] as const;

/**
 * Pairs of labels the bot may set on one request (with the override people set) that share a
 * scope: on GitLab each write of one would remove the other, and every pass would put it back.
 */
export function scopeClashes(labels: LabelNames): Array<{ path: string; message: string }> {
  const slots = [
    ...SCOPE_KEYS.map((key) => ({ key, shown: `${labels[key]}::…`, scope: labels[key] })),
    ...SINGLE_KEYS.map((key) => ({ key, shown: labels[key], scope: labelScope(labels[key]) })),
  ];
  const clashes: Array<{ path: string; message: string }> = [];
  slots.forEach((slot, i) => {
    const earlier = slots.slice(0, i).find((other) => slot.scope !== null && other.scope === slot.scope);
    if (!earlier) return;
    clashes.push({
      path: `labels.${slot.key}`,
      message:
        `labels.${earlier.key} ("${earlier.shown}") and labels.${slot.key} ("${slot.shown}") share the scope "${slot.scope}": ` +
        'GitLab keeps one label per scope, so each would remove the other; give one another scope, or none',
    });
  });
  return clashes;
}
