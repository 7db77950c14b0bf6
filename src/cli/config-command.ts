import type { Command } from 'commander';
import { loadCliConfig } from './load.js';
import { EXIT, type CliIO } from './io.js';

export function registerConfigCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const config = program.command('config').description('work with the configuration file');
  config
    .command('check')
    .description(
      'validate the configuration; every problem is listed with its YAML path and line:column (exit 2 when invalid)',
    )
    .action(() => {
      const { config: cfg, file } = loadCliConfig(program, io);
      const versions = cfg.forms.reduce((n, f) => n + f.versions.length, 0);
      io.stdout(
        `${file}: OK — ${cfg.forms.length} forms (${versions} versions), ${Object.keys(cfg.fields).length} fields, ` +
          `${cfg.people.length} people, ${cfg.routing.pools.length} routing pools\n`,
      );
      setExit(EXIT.ok);
    });
}
