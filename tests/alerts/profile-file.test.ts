// One profile contract: `crampguard analyze --profile` takes exactly the profiles the server and `replay` take
// (src/wire/schemas.ts ProfileSchema). The CLI used to have its own copy that accepted files replay refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/cli/analyze.js';
import { ProfileSchema } from '../../src/wire/schemas.js';

const dir = mkdtempSync(join(tmpdir(), 'cg-profile-'));

const CASES: Record<string, unknown> = {
  'a whole profile': { massKg: 68, hrRest: 50, hrMax: 188, lthr: 170, sex: 'female', age: 41, usualLongRunMin: 90 },
  'an empty profile': {},
  'a misspelt field': { massKG: 68 },
  'resting HR above max': { hrRest: 130, hrMax: 120 },
  'a fractional max HR': { hrMax: 187.5 },
  'a threshold HR the server refuses': { lthr: 65 },
  'a 2-minute usual long run': { usualLongRunMin: 2 },
  'a cramp history that is not a count or list': { crampHistory: 'twice' },
  'a sweat rate of 4500 ml/h': { sweatRateMlPerH: 4500 },
  'not an object': [68, 50, 188],
};

describe('analyze --profile uses the one profile schema', () => {
  it.each(Object.entries(CASES))('%s: analyze accepts it exactly when the server does', async (name, profile) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(profile));
    const server = ProfileSchema.safeParse(profile);
    const cli = await loadProfile(file).then(
      (p) => ({ ok: true as const, p }),
      (e: { code?: string }) => ({ ok: false as const, code: e.code }),
    );
    expect(cli.ok, name).toBe(server.success);
    if (cli.ok) expect(cli.p).toEqual(server.data);
    else expect(cli.code).toBe('PROFILE_INVALID');
  });

  it('the cases include both accepted and refused profiles', () => {
    const outcomes = Object.values(CASES).map((p) => ProfileSchema.safeParse(p).success);
    expect(outcomes).toContain(true);
    expect(outcomes.filter((ok) => !ok).length).toBeGreaterThanOrEqual(6);
  });
});
