import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/global-temp-dir.ts'],
    // The machines are shared and noisy: a test that spawns the CLI or runs a property over a real
    // SQLite file can take several times its quiet duration. No test measures time through this limit.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
