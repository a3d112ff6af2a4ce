// ESLint (flat config): typescript-eslint's recommended rules (not the type-checked set) over the
// TypeScript and JavaScript sources; formatting is Prettier's (eslint-config-prettier turns off the
// rules it would fight). `npm run lint` runs it with Prettier and clang-format (scripts/lint.sh).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { defineConfig } from 'eslint/config';

export default defineConfig(
  { ignores: ['dist/', 'build/', 'dist-deb/', 'prebuilds/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Control characters in regexes are deliberate here: log, terminal and secret sanitizers strip them.
      'no-control-regex': 'off',
      // An object rest that leaves out a field, and a loop that only counts (`for (const _ of text)`), are deliberate.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, varsIgnorePattern: '^_$' }],
    },
  },
  prettier,
);
