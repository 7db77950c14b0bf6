import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's own root (this file is `src/package-root.ts`, or `dist/package-root.js` once
 * built): where the bundled example configuration, templates, samples and docs live.
 */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
