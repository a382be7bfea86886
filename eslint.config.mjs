// ESLint (flat config, typed linting through typescript-eslint's project service over tsconfig.json).
// Focused on a few things rather than the big recommended sets:
//  - promises: a forgotten `await` on an activity or a store call is a real bug (no-floating-promises,
//    no-misused-promises), everywhere;
//  - the layering: db/ may not import workflows/ (not even types);
//  - the workflow sandbox boundary: workflow code (workflows/**, engine/**) must stay deterministic, so it
//    may not import Node built-ins, the database layer, broker implementations or activity values.
//    Type-only imports (`import type`) of db/, brokers/ and activities/ are allowed: they vanish at compile time.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// Bare names only (fs, path, crypto, child_process, ...): subpaths such as fs/promises are caught by a pattern.
const NODE_BUILTINS = [...new Set(builtinModules.map((m) => m.replace(/^node:/, '')).filter((m) => !m.includes('/')))];

const WORKFLOW_BOUNDARY = {
  paths: NODE_BUILTINS.map((name) => ({
    name,
    message: 'Workflow code runs in the Temporal sandbox: no Node built-ins (do it in an activity).',
  })),
  patterns: [
    {
      regex: '^node:',
      message: 'Workflow code runs in the Temporal sandbox: no Node built-ins (do it in an activity).',
    },
    {
      // fs/promises, path/posix, ... (the bare names are in `paths`)
      regex: `^(${NODE_BUILTINS.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})/`,
      message: 'Workflow code runs in the Temporal sandbox: no Node built-ins (do it in an activity).',
    },
    {
      regex: '(^|/)db(/|$)',
      allowTypeImports: true,
      message: 'Workflow code may not touch the database: go through a store activity (`import type` is fine).',
    },
    {
      // brokers/paper, brokers/ig, brokers/alpaca, ..., the brokers/ index (a factory over them) and
      // brokers/resilience; only brokers/adapter, brokers/errors and brokers/capabilities (pure data) are allowed.
      regex: '(^|/)brokers(/index)?$|(^|/)brokers/(?!(adapter|errors|capabilities)$).+',
      allowTypeImports: true,
      message:
        'Workflow code may not import broker implementations: only brokers/adapter, brokers/errors and brokers/capabilities (`import type` is fine).',
    },
    {
      regex: '(^|/)activities(/|$)',
      allowTypeImports: true,
      message:
        'Workflow code calls activities through proxyActivities: import their types only (`import type`).',
    },
  ],
};

export default tseslint.config(
  {
    ignores: ['node_modules/**', '.run/**', '.stack/**', 'coverage/**', '.bench-venv/**', '**/*.js', '**/*.cjs', '**/*.mjs'],
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts', 'engine/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', WORKFLOW_BOUNDARY],
    },
  },
  {
    // The layers point down: the database layer stores domain words (trading/, risk/, config/) and knows
    // nothing of the workflow that uses it, not even its types.
    files: ['db/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)workflows(/|$)',
              message:
                'db/ may not import from workflows/: import the domain types from their homes (config/, risk/, trading/).',
            },
          ],
        },
      ],
    },
  },
);
