// Runs the CLI once in a child process against a fake GitLab and measures it: wall time, the child's
// peak RSS and CPU (reported by report-rss.cjs on exit) and the CPU the fake in this process spent
// serving it. Shared by bench/report.js and bench/simulate.js. `profileDir` (their --profile DIR) runs the
// child under `node --cpu-prof --heap-prof` writing into DIR: where the time and the memory go.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function runMeasuredCli(fake, cliArgs, profileDir = null) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const fakeCpu = process.cpuUsage();
    const profile = profileDir
      ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--heap-prof', '--heap-prof-dir', profileDir]
      : [];
    const args = [
      ...profile,
      '--require',
      join(ROOT, 'bench', 'report-rss.cjs'),
      join(ROOT, 'bin', 'scale-bot.js'),
      ...cliArgs,
    ];
    const env = {
      PATH: process.env.PATH,
      GITLAB_URL: fake.url,
      GITLAB_TOKEN: fake.botToken,
      GITLAB_PROJECT: fake.project.path_with_namespace,
      GITLAB_REQUESTS_PER_MINUTE: '6000000',
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = /MAXRSS_KB (\d+)/.exec(stderr);
      const cpu = /CPU_MS (\d+)/.exec(stderr);
      if (code !== 0 || !rss || !cpu)
        return reject(new Error(`${cliArgs[0]} exited ${code}: ${stderr.slice(0, 2000)}`));
      const used = process.cpuUsage(fakeCpu);
      resolve({
        ms,
        rssMb: Number(rss[1]) / 1024,
        cpuMs: Number(cpu[1]),
        fakeCpuMs: (used.user + used.system) / 1000,
        stdout,
      });
    });
  });
}
