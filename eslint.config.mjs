// Lint: promises are awaited, workflows stay deterministic, and imports follow the layout's one-way arrows:
// domain → config → activities → workflows → workers → cli, with lab and scripts beside them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Bans value and type imports of the given top-level folders (relative imports at any depth). */
const notFrom = (folders, why) =>
  folders.map((folder) => ({ group: [`**/${folder}`, `**/${folder}/**`], message: `${why} (import from ${folder}/)` }));

const boundary = (files, folders, why, extra = {}) => ({
  files,
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      { patterns: [...notFrom(folders, why), ...(extra.patterns ?? [])], paths: extra.paths ?? [] },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.venv/**', '.cache/**', '.lab/**', 'lab/k8s/**', 'reports/**', 'state/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() and describe() report their own failures.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Our errors replace a low-level message with one that names the site and endpoint; a cause would make
      // errorText() (which shows the innermost message) print the low-level one again.
      'preserve-caught-error': 'off',
    },
  },
  { files: ['**/*.mjs'], languageOptions: { globals: { console: 'readonly', process: 'readonly' } } },
  boundary(
    ['domain/**/*.ts'],
    ['config', 'activities', 'workflows', 'workers', 'cli', 'lab', 'scripts', 'test'],
    'domain/ is pure and depends on nothing of the project',
    {
      patterns: [{ group: ['@temporalio/*'], message: 'domain/ is pure: no SDK' }],
    },
  ),
  boundary(['config/**/*.ts'], ['activities', 'workflows', 'workers', 'cli', 'lab', 'scripts', 'test'], 'config/ depends only on domain/'),
  boundary(
    ['activities/**/*.ts'],
    ['workflows', 'workers', 'cli', 'lab', 'scripts', 'test'],
    'activities are adapters; runbooks depend on them, not the other way',
  ),
  // Workflows run in Temporal's deterministic sandbox: no Node built-ins, activities as types only.
  boundary(['workflows/**/*.ts'], ['workers', 'cli', 'lab', 'scripts', 'test'], 'workflows depend on domain, config types and activity types only', {
    paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not allowed in workflow code (Temporal sandbox)' })),
    patterns: [
      { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'workflows import activities as types only (import type)' },
      { group: ['**/config/load', '**/config/schema'], allowTypeImports: true, message: 'workflows see the plan, never the config' },
      { group: ['@temporalio/activity', '@temporalio/worker', '@temporalio/client'], message: 'not in workflow code' },
    ],
  }),
  boundary(['workers/**/*.ts'], ['cli', 'lab', 'scripts', 'test'], 'workers run activities and workflows; they know no CLI or lab'),
  // Clients start runbooks by type: workflow types may be imported, workflow code may not.
  boundary(['cli/**/*.ts'], ['workers', 'lab', 'scripts', 'test'], 'the CLI knows no lab', {
    patterns: [{ group: ['**/workflows', '**/workflows/**'], allowTypeImports: true, message: 'the CLI imports workflow types only' }],
  }),
  // Nothing outside lab/ (and the test and benchmark tooling that drives it) knows that a lab exists.
  boundary(['lab/**/*.ts'], ['scripts', 'test'], 'the lab does not depend on tooling or tests'),
);
