// ESLint for the TypeScript sources and tests: the recommended rules of ESLint and typescript-eslint,
// plus the few house rules that the compiler does not check. `npm run lint` runs it with `tsc --noEmit`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', '.vscode-test/', 'test/fixtures/', '**/*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Unused names are the compiler's job (noUnusedLocals / noUnusedParameters).
      '@typescript-eslint/no-unused-vars': 'off',
      // `any` appears where the Cloudflare SDK and VS Code API types are opaque; keep it visible, not fatal.
      '@typescript-eslint/no-explicit-any': 'off',
      // Heavy modules (the Cloudflare SDK, node-forge, the PKI) are required on first use, not at load time.
      '@typescript-eslint/no-require-imports': 'off',
      // Validators refuse control characters on purpose, so their patterns name them.
      'no-control-regex': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/core and src/cli never import vscode.' }] }] },
  },
  {
    files: ['src/webview/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Host and UI tests hand functions to the page (page.evaluate), which run in the browser.
    files: ['test/host/**', 'test/ui/**'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
