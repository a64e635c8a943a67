// The layout's boundaries (eslint.config.js) catch what they are for: code that breaks one, linted as if it were a
// file in ingest/ or alerts/, is refused with the rule's message, and the same code is accepted in src/.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function problems(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.line}: ${m.message}`);
}

describe('layout boundaries (ESLint)', () => {
  it('alerts/ imports nothing from src/, in values, types or import() types', async () => {
    const found = await problems(
      [
        "import { x } from '../src/wire/schemas.js';",
        "import type { Y } from '../../src/store/types.js';",
        "export { z } from '../src/server/config.js';",
        "type Z = import('../src/cli/main.js').Z;",
      ].join('\n'),
      'alerts/detectors/example.ts',
    );
    expect(found).toHaveLength(4);
    for (const line of found) expect(line).toMatch(/import nothing from src/);
  });

  it('ingest/ imports nothing from src/ or alerts/', async () => {
    const found = await problems(
      ["import { x } from '../../src/wire/schemas.js';", "import type { E } from '../alerts/types.js';"].join('\n'),
      'ingest/fit/example.ts',
    );
    expect(found).toEqual([expect.stringMatching(/^1: .*nothing from src/), expect.stringMatching(/^2: .*nothing from alerts/)]);
  });

  it('src/live/ imports nothing from src/server/, socket.io or express; alerts/, ingest/ and the store types are fine', async () => {
    const found = await problems(
      [
        "import type { Metrics } from '../server/metrics.js';",
        "import type { Socket } from 'socket.io';",
        "import { createAdapter } from '@socket.io/redis-streams-adapter';",
        "import express from 'express';",
        "type A = import('../server/analyzer.js').Analyzer;",
        "import type { Store } from '../store/types.js';",
        "import { createEngine } from '../../alerts/engine.js';",
        "import type { WireSample } from '../../ingest/live.js';",
      ].join('\n'),
      'src/live/example.ts',
    );
    expect(found.map((line) => Number(line.split(':')[0]))).toEqual([1, 2, 3, 4, 5]);
    for (const line of found) expect(line).toMatch(/live core without transport/);
  });

  it('alerts/ uses no clock, timers, process, file system or randomness', async () => {
    const code = [
      "import { readFileSync } from 'node:fs';",
      "import { setTimeout as wait } from 'timers/promises';",
      'export const a = Date.now();',
      'export const b = performance.now();',
      'export const c = process.env.HOME;',
      'setTimeout(() => {}, 1);',
      'setInterval(() => {}, 1);',
      'export const d = globalThis.setImmediate;',
      'export const e = Math.random();',
      "export const f = import('./x.js');",
      "type S = import('node:fs').Stats;",
    ].join('\n');
    const found = await problems(code, 'alerts/example.ts');
    expect(found.map((line) => Number(line.split(':')[0]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a local name that shadows a global is not the global, and src/ may use both', async () => {
    expect(await problems('export function at(Date: number): number { return Date + 1; }', 'alerts/example.ts')).toEqual([]);
    const free = "import { readFileSync } from 'node:fs';\nexport const t = Date.now() + Number(readFileSync);";
    expect(await problems(free, 'src/server/example.ts')).toEqual([]);
  });
});
