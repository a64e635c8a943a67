import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const bin = new URL('../bin/crampguard.js', import.meta.url).pathname;

describe('crampguard CLI', () => {
  it('lists its commands with --help', () => {
    const out = execFileSync('node', [bin, '--help'], { encoding: 'utf8' });
    for (const cmd of ['samples', 'inspect', 'analyze', 'serve', 'replay']) expect(out).toContain(cmd);
  });

  it('refuses an unknown command with status 2', () => {
    const r = spawnSync('node', [bin, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});
