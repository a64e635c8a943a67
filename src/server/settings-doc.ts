/**
 * The settings as people read them, generated from the one schema that parses them ({@link EnvSchema}): the
 * `crampguard serve --help` list and the table of docs/settings.md (written by `node scripts/settings-table.mjs`
 * after a build; a test checks the committed file is what this makes).
 * @module
 */
import { z } from 'zod';
import { EnvSchema } from './config.js';

interface Setting {
  name: string;
  description: string;
  /** The default as written in the environment, or undefined when unset means "off" or "not used". */
  defaultValue: string | undefined;
  /** What the value may be, in words. */
  values: string;
}

interface JsonSchemaField {
  type?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  pattern?: string;
}

/** Every variable, in the schema's order. */
export function settings(): Setting[] {
  const json = z.toJSONSchema(EnvSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, JsonSchemaField>;
  };
  return Object.entries(EnvSchema.shape).map(([name, schema]) => {
    const field = json.properties[name] ?? {};
    return {
      name,
      description: schema.description ?? '',
      defaultValue: field.default === undefined ? undefined : String(field.default),
      values: valuesOf(field),
    };
  });
}

function valuesOf(f: JsonSchemaField): string {
  if (f.enum) return f.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (f.type === 'integer' || f.type === 'number') {
    const kind = f.type === 'integer' ? 'integer' : 'number';
    const low = f.exclusiveMinimum !== undefined ? `> ${f.exclusiveMinimum}` : f.minimum !== undefined ? `${f.minimum}` : undefined;
    if (low !== undefined && f.maximum !== undefined) {
      return f.exclusiveMinimum !== undefined ? `${kind} ${low}, ≤ ${f.maximum}` : `${kind} ${low}–${f.maximum}`;
    }
    return kind;
  }
  return 'text';
}

/** The list `crampguard serve --help` prints. */
export function settingsHelp(): string {
  const rows = settings();
  const width = Math.max(...rows.map((r) => r.name.length)) + 2;
  const lines = rows.map((r) => {
    const plain = r.description.replaceAll('`', '');
    const def = r.defaultValue === undefined ? '' : ` (default ${r.defaultValue === '' ? 'empty' : r.defaultValue})`;
    return `  ${r.name.padEnd(width)}${plain}${def}`;
  });
  return `environment (docs/settings.md has them all with their allowed values):\n${lines.join('\n')}\n`;
}

/** docs/settings.md, whole. */
export function settingsMarkdown(): string {
  const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const rows = settings().map(
    (r) =>
      `| \`${r.name}\` | ${r.defaultValue === undefined ? '–' : r.defaultValue === '' ? 'empty' : `\`${cell(r.defaultValue)}\``} | ${r.values} | ${cell(r.description)} |`,
  );
  return [
    '# Settings',
    '',
    '<!-- Generated from the schema in src/server/config.ts by `node scripts/settings-table.mjs` (after a build); do not edit',
    '     by hand: tests/server/settings-doc.test.ts fails when this file and the schema disagree. -->',
    '',
    '`crampguard serve` (`npm start`) reads these environment variables once at start. A value that is not allowed',
    'stops it with one line naming the variable (exit code 2); an empty value counts as unset.',
    '`crampguard serve --help` prints the same list. Several processes: see [production.md](production.md).',
    '',
    '| variable | default | values | what it does |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
