// Lint: the recommended rules of ESLint and typescript-eslint, the type-aware promise rules (an
// un-awaited promise is how the CLI once exited 13 mid-retry), and the one architectural rule:
// src/domain is pure and imports no adapter.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const ADAPTER_FOLDERS = [
  'cli',
  'config',
  'crm',
  'demo',
  'fake-gitlab',
  'gitlab',
  'jobs',
  'queue',
  'render',
  'server',
  'service',
  'status',
  'templates',
  'worker',
];

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // A function should read at once: long ones are split into named stages (#20).
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 79, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    // Test doubles cast freely, and YAML indentation reads best as literal spaces in a pattern.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-regex-spaces': 'off' },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ADAPTER_FOLDERS.map((folder) => `../${folder}/**`),
              message: 'src/domain is pure: adapters call the domain, never the other way round.',
            },
            {
              group: [
                'node:*',
                'fs',
                'path',
                'os',
                'http',
                'https',
                'child_process',
                'better-sqlite3',
                'express',
                'pino',
                '@gitbeaker/*',
                'prom-client',
              ],
              message: 'src/domain is pure: no I/O, clock or environment; take them as parameters.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'src/domain reads no environment.' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'src/domain reads no clock: take `now` as a parameter.',
        },
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'src/domain reads no clock: take `now` as a parameter.',
        },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        setImmediate: 'readonly',
        structuredClone: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortSignal: 'readonly',
        Response: 'readonly',
        Headers: 'readonly',
      },
    },
  },
  prettier,
);
