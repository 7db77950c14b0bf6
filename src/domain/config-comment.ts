import { noteMarker, readNoteMarker } from './bot-note-marker.js';
import type { CompileProblem } from './forms.js';
import { neutralizeInline } from './markdown-safety.js';

/**
 * The comment the bot leaves on a commit whose configuration it refused: every problem with its
 * YAML path and line:column, and what the bot does meanwhile. The marker names the refused file
 * version (its blob), so the bot comments once per broken version, across restarts and replicas.
 */

const KEY = 'config-problems';

export function configCommentMarker(blobId: string): string {
  return noteMarker(KEY, { blob: blobId });
}

/** Whether `body` is the bot's comment about this blob. */
export function isConfigComment(body: string, blobId: string): boolean {
  const marker = readNoteMarker(body);
  return marker?.key === KEY && marker.state.blob === blobId;
}

export function configProblemsComment(input: {
  file: string;
  blobId: string;
  problems: CompileProblem[];
  runningOn: string | null;
}): string {
  const where = (p: CompileProblem) => (p.line !== undefined ? ` (line ${p.line}:${p.column ?? 1})` : '');
  const keeps = input.runningOn
    ? `scale-bot keeps running with the last valid configuration (commit ${input.runningOn.slice(0, 8)}) until this is fixed.`
    : 'scale-bot has no valid configuration to fall back on and processes no requests until this is fixed.';
  return [
    configCommentMarker(input.blobId),
    `**scale-bot cannot use \`${input.file}\` as of this commit** (${input.problems.length} problem(s)); ${keeps}`,
    '',
    // Inside a code span nothing is a mention, reference or markup; only a backtick could end it.
    ...input.problems.map((p) => `- \`${p.path.replace(/`/g, "'")}\`${where(p)}: ${neutralizeInline(p.message)}`),
    '',
    'Run `npx scale-bot config check` to see the same list locally.',
  ].join('\n');
}
