// ESLint flat config: type-aware rules for every TypeScript folder.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '**/*.js', '**/*.mjs', 'test/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The pure core never knows about the editor or LSP (DESIGN section 2).
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['vscode', 'vscode-languageserver', 'vscode-languageserver/*', 'vscode-languageclient', 'vscode-languageclient/*', 'vscode-languageserver-protocol', 'vscode-languageserver-textdocument'], message: 'core/ must stay editor-agnostic: no vscode or LSP imports.' },
            { group: ['**/server/**', '**/client/**', '**/cli/**', '**/webview/**'], message: 'core/ may not import the adapters.' },
          ],
        },
      ],
    },
  },
  {
    // VS Code renders [label](command:…) in a notification as a link that runs the command: every
    // notification goes through client/notify.ts, which makes the text (partly the workspace's) inert.
    files: ['client/**/*.ts'],
    ignores: ['client/notify.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'MemberExpression[property.name=/^(show(Error|Warning|Information)Message|withProgress)$/]', message: 'Use client/notify.ts (showError, showWarning, showInfo, askModal, withNotificationProgress): it keeps links out of notification text.' },
      ],
    },
  },
  {
    files: ['server/**/*.ts', 'cli/**/*.ts', 'webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['vscode'], message: 'Only client/ may import vscode.' }] }],
    },
  },
);
