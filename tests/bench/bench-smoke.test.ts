/**
 * Smoke test of the benchmark machinery (not a benchmark: no figure is asserted). The load generator must run
 * in its own process, talk only to 127.0.0.1, stay bounded and stop by itself; the runner must refuse an
 * unknown part. Uses the bare ack server, so it needs no build.
 */
import { fork, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BENCH = join(import.meta.dirname, '../../scripts/bench');

interface PhaseResult {
  name: string;
  messagesPerS: number;
  samplesPerS: number;
  ack: { n: number; p50: number | null; p99: number | null };
  errors: Record<string, number>;
}

describe('benchmark machinery', () => {
  it('drives watches against a bare ack server from its own process and stops by itself', async () => {
    const server = fork(join(BENCH, 'live-server.mjs'), ['--kind', 'bare', '--max-s', '60'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const [ready] = (await once(server, 'message')) as [{ type: string; url: string }];
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const cfg = { url: ready.url, tokens: ['x'], watches: 20, mode: 'rate', batch: 2, phases: [{ name: 'm', s: 2.5 }], warmupS: 0.5, product: false };
      const gen = fork(join(BENCH, 'load-gen.mjs'), [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const messages: { type: string; phases?: PhaseResult[]; name?: string | null }[] = [];
      gen.on('message', (m) => messages.push(m as (typeof messages)[number]));
      const [code] = (await once(gen, 'exit')) as [number];
      expect(code).toBe(0);
      expect(messages.map((m) => m.type)).toEqual(['connected', 'phase', 'phase', 'result']);
      const phase = messages.at(-1)!.phases![0]!;
      expect(phase.errors).toEqual({});
      // 20 watches, one 2-sample message every 2 s each: ≈10 messages/s, every one acked, samples counted per message.
      expect(phase.ack.n).toBeGreaterThan(10);
      expect(phase.samplesPerS).toBeCloseTo(phase.messagesPerS * 2, 6);
      expect(phase.ack.p50).toBeGreaterThan(0);
    } finally {
      server.kill();
    }
  });

  it('refuses a target other than 127.0.0.1 and an unbounded watch count', () => {
    const gen = (cfg: object) => spawnSync(process.execPath, [join(BENCH, 'load-gen.mjs'), JSON.stringify(cfg)], { encoding: 'utf8', timeout: 20_000 });
    const base = { tokens: ['x'], mode: 'rate', batch: 1, phases: [], warmupS: 0, product: false };
    const remote = gen({ ...base, url: 'http://example.com:80', watches: 1 });
    expect(remote.status).not.toBe(0);
    expect(remote.stderr).toContain('127.0.0.1 only');
    const huge = gen({ ...base, url: 'http://127.0.0.1:9', watches: 50_000 });
    expect(huge.status).not.toBe(0);
    expect(huge.stderr).toContain('watches must be');
  });

  it('the runner refuses an unknown part with exit code 2', () => {
    const r = spawnSync(process.execPath, [join(BENCH, 'run-all.mjs'), 'nonsense'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown part "nonsense"');
  });
});
