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

await import('./link-bin.mjs');
