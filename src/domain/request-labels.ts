import type { Assessment } from './assess.js';
import type { LabelNames } from './config-schema.js';
import { labelScope } from './label-scope.js';
import type { Plan } from './plan.js';
import { sameName } from './same-name.js';
import type { State } from './workflow.js';

/**
 * A request's labels: the bot manages its scopes (form, segment, region, priority, one engagement
 * state) and flags, and leaves every other label alone.
 */

/** Plans the label changes; returns the flags the request earns (also those a person's label keeps off). */
export function planLabels(plan: Plan, a: Assessment, state: State): string[] {
  const { config, request, qualification, duplicates, issue } = a;
  const labels = config.labels;
  const want = new Set<string>([
    `${labels.form}::${request.form.id}`,
    config.catalog.segmentLabel(request.form.segment),
    config.catalog.regionLabel(request.form.region),
    `${labels.priority}::${qualification.priority}`,
  ]);
  want.add(`${labels.engagement}::${state}`);
  const isManaged = managedBy(labels);
  const flags = [
    qualification.flags.includes('escalation-candidate') ? labels.escalationCandidate : null,
    qualification.flags.includes('at-risk') ? labels.atRisk : null,
    duplicates.length > 0 ? labels.duplicate : null,
  ].filter((f): f is string => f !== null);
  for (const flag of flags) addFlag(plan, want, flag, issue.labels, isManaged);
  plan.followUps = duplicates.filter((d) => !d.labels.some((l) => sameName(l, labels.duplicate))).map((d) => d.iid);
  diffLabels(plan, issue.labels, want, isManaged);
  return flags;
}

/** Whether the bot manages a label (and so may remove it). */
function managedBy(labels: LabelNames): (label: string) => boolean {
  const managedScopes = [labels.form, labels.segment, labels.region, labels.priority].map((s) =>
    `${s}::`.toLowerCase(),
  );
  const managedFlags = [labels.escalationCandidate, labels.atRisk, labels.duplicate].map((l) => l.toLowerCase());
  return (l: string) => {
    const lower = l.toLowerCase();
    if (managedFlags.includes(lower) || managedScopes.some((p) => lower.startsWith(p))) return true;
    // One engagement state at a time, the one the workflow decided.
    return lower.startsWith(`${labels.engagement}::`.toLowerCase());
  };
}

/**
 * A flag whose scope already holds a label the bot does not manage (a person's `escalation::approved`
 * beside the bot's `escalation::candidate`) is left off: on GitLab adding it would remove that label,
 * and the bot never fights people, or GitLab's scoped labels, over a scope.
 */
function addFlag(
  plan: Plan,
  want: Set<string>,
  flag: string,
  current: string[],
  isManaged: (l: string) => boolean,
): void {
  const scope = labelScope(flag);
  const holder = scope === null ? undefined : current.find((l) => !isManaged(l) && labelScope(l) === scope);
  if (holder === undefined) want.add(flag);
  else plan.summary.push(`${flag} left off: ${holder} holds its scope`);
}

function diffLabels(plan: Plan, current: string[], want: Set<string>, isManaged: (l: string) => boolean): void {
  const have = new Set(current.map((l) => l.toLowerCase()));
  for (const l of want) if (!have.has(l.toLowerCase())) plan.labels.add.push(l);
  const wanted = new Set([...want].map((l) => l.toLowerCase()));
  for (const l of current) if (isManaged(l) && !wanted.has(l.toLowerCase())) plan.labels.remove.push(l);
}
