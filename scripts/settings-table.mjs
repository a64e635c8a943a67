// Writes docs/settings.md from the configuration schema (src/server/config.ts), through the build in dist/.
// Usage: npx tsc -p tsconfig.build.json && node scripts/settings-table.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { settingsMarkdown } = await import(join(root, 'dist', 'src', 'server', 'settings-doc.js'));
const target = join(root, 'docs', 'settings.md');
writeFileSync(target, settingsMarkdown());
console.log(`settings-table: wrote ${target}`);
