import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { PACKAGE_ROOT } from '../package-root.js';
import { workflowDoc } from '../domain/workflow.js';
import { EXIT, type CliIO } from './io.js';

export const WORKFLOW_DOC = join(PACKAGE_ROOT, 'docs', 'workflow.md');

export function registerWorkflowCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('workflow')
    .description('print the engagement workflow (Mermaid diagram and transition table) the bot enforces')
    .option('--write', 'write it to docs/workflow.md')
    .option('--check', 'exit 1 when docs/workflow.md differs from the workflow the code enforces')
    .action((opts: { write?: boolean; check?: boolean }) => {
      const doc = workflowDoc();
      if (opts.check) {
        const current = existsSync(WORKFLOW_DOC) ? readFileSync(WORKFLOW_DOC, 'utf8') : null;
        const ok = current === doc;
        io.stdout(
          ok ? 'docs/workflow.md is up to date\n' : 'docs/workflow.md is stale: run `scale-bot workflow --write`\n',
        );
        setExit(ok ? EXIT.ok : EXIT.problems);
        return;
      }
      if (opts.write) {
        mkdirSync(dirname(WORKFLOW_DOC), { recursive: true });
        writeFileSync(WORKFLOW_DOC, doc);
        io.stdout(`wrote ${WORKFLOW_DOC}\n`);
      } else io.stdout(doc);
      setExit(EXIT.ok);
    });
}
