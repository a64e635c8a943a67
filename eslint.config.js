// ESLint: the layout's boundaries, checked on every `npm test` (and so in CI).
//   ingest/ and alerts/ import nothing from src/ (data flows ingest -> alerts -> src), ingest/ nothing from alerts/;
//   alerts/ is the pure streaming model: no clock, timers, process, environment, file system or network.
//   src/live/ is the live core without transport: nothing from src/server/, no socket.io or express.
// typescript-eslint comes from tools/lint (see its package.json for why), parsing without type information, so a
// run takes seconds.
import tseslint from 'crampguard-lint';

const fromSrc = {
  regex: '^(\\.\\./)+src(/|$)',
  message: 'ingest/ and alerts/ import nothing from src/: data flows ingest -> alerts -> src.',
};
const fromAlerts = {
  regex: '^(\\.\\./)+alerts(/|$)',
  message: 'ingest/ imports nothing from alerts/: data flows ingest -> alerts -> src.',
};
const nodeBuiltins = {
  regex: '^(node:|(fs|fs/promises|timers|timers/promises|perf_hooks|process|os|child_process|worker_threads|net|http|https|dgram|dns|cluster|readline|v8|vm)$)',
  message: 'alerts/ is the pure model: no file system, timers, clock, process or network (pass what it needs in).',
};
const transport = {
  regex: '^((\\.\\./)+server(/|$)|socket\\.io(-client)?$|@socket\\.io/|express$)',
  message: 'src/live/ is the live core without transport: nothing from src/server/, socket.io or express (the adapter uses it).',
};
/** `import('…').T` in a type position, which no-restricted-imports does not see. */
const importType = ({ regex, message }) => ({
  selector: `TSImportType[source.value=/${regex.replaceAll('/', '\\/')}/]`,
  message,
});
const impure = 'alerts/ is the pure model: no clock, timers, process or environment (the caller passes time in).';
const impureGlobals = [
  'Date', 'performance', 'process', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval',
  'clearImmediate', 'queueMicrotask', 'require', 'fetch', 'Deno', 'Bun',
].map((name) => ({ name, message: impure }));

export default tseslint.config(
  {
    ignores: [
      'dist/**', 'node_modules/**', '**/node_modules/**', 'test-artifacts/**', 'coverage/**',
      'src/dashboard/web/dist/**', 'dashboard-dist/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
  },
  // Only the boundary rules run, so a disable comment for another rule is not "unused".
  { linterOptions: { reportUnusedDisableDirectives: 'off' } },
  {
    files: ['ingest/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [fromSrc, fromAlerts] }],
      'no-restricted-syntax': ['error', importType(fromSrc), importType(fromAlerts)],
    },
  },
  {
    files: ['src/live/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [transport] }],
      'no-restricted-syntax': ['error', importType(transport)],
    },
  },
  {
    files: ['alerts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [fromSrc, nodeBuiltins] }],
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': ['error',
        ...impureGlobals.map(({ name }) => ({ object: 'globalThis', property: name, message: impure })),
        { object: 'Math', property: 'random', message: 'alerts/ is deterministic: the same samples give the same prompts.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: 'ImportExpression', message: 'alerts/ loads nothing at run time (no dynamic import).' },
        importType(fromSrc), importType(nodeBuiltins),
      ],
    },
  },
);
