// The watch socket's error codes are closed lists (src/wire/events.ts): every code the server's socket code can
// answer with is in them, and the protocol document explains every one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDSHAKE_ERROR_CODES, WATCH_ERROR_CODES } from '../../src/wire/events.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The server's socket side: the adapter, the live runs and the live core, wherever they are. */
function socketSources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) files.push(path);
    }
  };
  for (const dir of ['src/server', 'src/live']) {
    try {
      walk(join(ROOT, dir));
    } catch {
      // src/live may not exist
    }
  }
  return files.filter((f) => /(watch|live)/.test(f.slice(ROOT.length)));
}

/** Codes written as literals in calls of `names` (`fail('X', …)`, `new LiveError('X', …)`). */
function literalCodes(source: string, names: string[]): string[] {
  const re = new RegExp(`(?:${names.join('|')})\\(\\s*'([A-Z][A-Z_]+)'`, 'g');
  return [...source.matchAll(re)].map((m) => m[1]!);
}

describe('watch error codes', () => {
  const files = socketSources();

  it('finds the server socket code it checks', () => {
    expect(files.some((f) => f.endsWith('watch.ts'))).toBe(true);
  });

  it('every code an error ack is given is a WatchErrorCode', () => {
    const found = files.flatMap((f) => literalCodes(readFileSync(f, 'utf8'), ['fail', 'new LiveError', 'new WatchError']));
    expect(found.length).toBeGreaterThan(5);
    for (const code of found) expect(WATCH_ERROR_CODES as readonly string[], code).toContain(code);
  });

  it('every code a handshake is refused with is a HandshakeErrorCode', () => {
    const found = files.flatMap((f) => literalCodes(readFileSync(f, 'utf8'), ['refuse']));
    expect(found.length).toBeGreaterThan(0);
    for (const code of found) expect(HANDSHAKE_ERROR_CODES as readonly string[], code).toContain(code);
  });

  it('docs/watch-protocol.md explains every code', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'watch-protocol.md'), 'utf8');
    const errors = doc.slice(doc.indexOf('## Errors'));
    for (const code of WATCH_ERROR_CODES) expect(errors, `${code} in the Errors table`).toContain(`| \`${code}\` |`);
    const connecting = doc.slice(doc.indexOf('## Connecting'), doc.indexOf('## Sequence'));
    for (const code of HANDSHAKE_ERROR_CODES) expect(connecting, `${code} under Connecting`).toContain(`\`${code}\``);
  });
});
