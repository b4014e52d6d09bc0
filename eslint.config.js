// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The domain core must stay free of I/O frameworks: HTTP, SQL and SDK modules live in the
// adapters (http/, storage/, metadata/, auth/), which core/ only knows through its ports.
const forbiddenInCore = [
  'node:http',
  'node:https',
  'node:http2',
  'http',
  'https',
  'node:fs',
  'node:fs/promises',
  'fs',
  'better-sqlite3',
  'pg',
  'pino',
  'undici',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'bench/results/**', '.s3data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbiddenInCore,
          patterns: [
            { group: ['@aws-sdk/*'], message: 'core/ uses ports, not SDKs' },
            {
              group: [
                '**/http/**',
                '**/storage/**',
                '**/metadata/**',
                '**/server/**',
                '**/auth/**',
                '**/cli/**',
                '**/jobs/**',
              ],
              message: 'core/ imports nothing from the outer layers',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
