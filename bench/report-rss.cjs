// Preloaded into the report's process by bench/report.js: its peak resident memory, at exit.
process.on('exit', () => process.stderr.write(`MAXRSS_KB ${process.resourceUsage().maxRSS}\n`));
