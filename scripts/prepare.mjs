// What `npm install` and `npm ci` run (the `prepare` script): build dist/ (the server, the CLI and the dashboard
// bundle) where the build tools are installed, then link the `crampguard` command into node_modules/.bin.
//
// A production install (`npm ci --omit=dev`) has no TypeScript or Vite: it uses a dist/ built beforehand with the
// dev dependencies (`npm ci && npm run build`, then `npm ci --omit=dev` in the same tree, or dist/ copied in) and
// says so, instead of failing the install.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const tools = ['typescript', 'vite'].filter((name) => !existsSync(`node_modules/${name}/package.json`));
if (tools.length === 0) {
  const npm = process.env.npm_execpath;
  const result = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
} else if (existsSync('dist/src/cli/main.js') && existsSync('dist/dashboard/index.html')) {
  console.log(`prepare: ${tools.join(' and ')} not installed (a production install): using the dist/ already built`);
} else {
  console.warn(
    `prepare: ${tools.join(' and ')} not installed and no dist/ built: \`crampguard\` will not run until dist/ is ` +
      'built where the dev dependencies are (`npm ci && npm run build`) and kept or copied here',
  );
}

// better-sqlite3 is an optional dependency (a PostgreSQL-only install need not build it), so npm does not fail when
// its native build does: say so here, where a newcomer running `npm install` then `npm start` will see it.
if (!process.argv.includes('--no-sqlite-check')) {
  const probe = spawnSync(process.execPath, ['-e', "require('better-sqlite3')"], { stdio: 'ignore' });
  if (probe.status !== 0) {
    console.warn(
      'prepare: better-sqlite3 (the embedded store `npm start` uses) is not installed or did not build: run ' +
        '`npm rebuild better-sqlite3 --foreground-scripts` to see why, or set DATABASE_URL for PostgreSQL',
    );
  }
}

await import('./link-bin.mjs');
