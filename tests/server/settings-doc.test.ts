// docs/settings.md and `crampguard serve --help` are generated from the configuration schema: the committed table
// is exactly what the schema makes now (after changing a setting: `npx tsc -p tsconfig.build.json && node
// scripts/settings-table.mjs`), and every variable says what it does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvSchema, loadConfig } from '../../src/server/config.js';
import { settings, settingsHelp, settingsMarkdown } from '../../src/server/settings-doc.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('settings documentation', () => {
  it('docs/settings.md is the table the schema makes', () => {
    const committed = readFileSync(join(ROOT, 'docs', 'settings.md'), 'utf8');
    expect(committed, 'docs/settings.md is stale: run `npx tsc -p tsconfig.build.json && node scripts/settings-table.mjs`').toBe(settingsMarkdown());
  });

  it('every variable has a description, and the table and --help list each once', () => {
    const names = Object.keys(EnvSchema.shape);
    expect(settings().map((s) => s.name)).toEqual(names);
    for (const s of settings()) expect(s.description, s.name).toMatch(/\S{3}/);
    const table = settingsMarkdown();
    const help = settingsHelp();
    for (const name of names) {
      expect(table.split('\n').filter((l) => l.startsWith(`| \`${name}\` |`)), name).toHaveLength(1);
      expect(help.split('\n').filter((l) => l.trimStart().startsWith(`${name} `)), name).toHaveLength(1);
    }
  });

  it('the defaults shown are the ones the server starts with', () => {
    const byName = new Map(settings().map((s) => [s.name, s.defaultValue]));
    const config = loadConfig({});
    expect(byName.get('PORT')).toBe(String(config.port));
    expect(byName.get('DATA_DIR')).toBe(config.dataDir);
    expect(Number(byName.get('UPLOAD_LIMIT_MB')) * 1024 * 1024).toBe(config.uploadLimitBytes);
    expect(Number(byName.get('FIT_TIME_LIMIT_S')) * 1000).toBe(config.fitTimeLimitMs);
    expect(byName.get('DATABASE_URL')).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    // A value outside what the table allows is refused, naming the variable.
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ REGISTRATION: 'maybe' })).toThrow(/REGISTRATION/);
  });
});
