// Preloaded into the report's process by bench/report.js: its peak resident memory and CPU time, at exit.
process.on('exit', () => {
  const ru = process.resourceUsage();
  process.stderr.write(`MAXRSS_KB ${ru.maxRSS}\nCPU_MS ${Math.round((ru.userCPUTime + ru.systemCPUTime) / 1000)}\n`);
});
