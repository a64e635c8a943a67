import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../ingest/errors.js';
import {
  createLiveBatchOutput,
  createLiveNormalizer,
  LiveFlag,
  MAX_BATCH_SAMPLES,
  MAX_RR_PER_SAMPLE,
  parseWireBatch,
  parseWireSample,
  type WireSample,
} from '../../ingest/live.js';
import { PLAUSIBLE } from '../../ingest/plausible.js';
import { CHANNELS, type Sample } from '../../ingest/sample.js';

const T0 = Date.UTC(2025, 5, 1, 7, 0, 0);

function parseOk(input: unknown): WireSample[] {
  const r = parseWireBatch(input);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.batch;
}

describe('parseWireBatch: malformed input is refused with a stable code', () => {
  it('accepts t-only, epoch-ms and ISO samples with nulls for missing values', () => {
    const batch = parseOk([
      { t: 0, hr: 120, cadence: null },
      { timestamp: T0 + 1000, speed: 3.1, rr: [500, 510] },
      { timestamp: '2025-06-01T09:00:02+02:00', hr: 121 },
    ]);
    expect(batch).toHaveLength(3);
    expect(batch[1]!.rr).toEqual([500, 510]);
  });

  it.each([
    ['wrong type', [{ t: 1, hr: '140' }], 'samples[0].hr'],
    ['NaN', [{ t: 1, hr: NaN }], 'samples[0].hr'],
    ['Infinity', [{ t: 0 }, { t: 2, speed: Infinity }], 'samples[1].speed'],
    ['no time at all', [{ hr: 140 }], 'samples[0].t'],
    ['negative t', [{ t: -1 }], 'samples[0].t'],
    ['timestamp in seconds, not ms', [{ timestamp: 1_700_000_000 }], 'samples[0].timestamp'],
    ['ISO without zone', [{ timestamp: '2025-06-01T09:00:02' }], 'samples[0].timestamp'],
    ['rr not an array', [{ t: 0, rr: 500 }], 'samples[0].rr'],
    ['rr element not a number', [{ t: 0, rr: [500, 'x'] }], 'samples[0].rr[1]'],
    ['rr too long', [{ t: 0, rr: new Array(MAX_RR_PER_SAMPLE + 1).fill(500) }], 'samples[0].rr'],
    ['sample not an object', [42], 'samples[0]'],
    ['batch not an array', { t: 0 }, 'samples'],
    ['empty batch', [], 'samples'],
  ])('%s → SAMPLE_INVALID naming the field', (_name, input, where) => {
    const r = parseWireBatch(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('SAMPLE_INVALID');
    expect(r.error.message.startsWith(`${where}:`)).toBe(true);
    expect(r.error.message).not.toContain('\n');
  });

  it('a batch over the limit → SAMPLE_BATCH_TOO_LARGE, without parsing the elements', () => {
    const big = new Array(MAX_BATCH_SAMPLES + 1).fill('not even a sample');
    const r = parseWireBatch(big);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('SAMPLE_BATCH_TOO_LARGE');
    expect(parseWireBatch(new Array(MAX_BATCH_SAMPLES).fill({ t: 0 })).ok).toBe(true);
  });

  it('single samples are checked the same way', () => {
    expect(parseWireSample({ t: 3, hr: 150 }).ok).toBe(true);
    const r = parseWireSample({ t: 3, hr: null, cadence: [] });
    expect(r.ok ? '' : r.error.message).toMatch(/^sample\.cadence: /);
  });

  it('random JSON never throws and always answers ok or a coded error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = parseWireBatch(v);
        if (!r.ok) expect(['SAMPLE_INVALID', 'SAMPLE_BATCH_TOO_LARGE']).toContain(r.error.code);
      }),
      { numRuns: 300 },
    );
  });
});

describe('positions on the wire (optional lat/lon, a phone companion sends them)', () => {
  it('are validated by range: out of range refuses the batch with the field named', () => {
    for (const [bad, field] of [[{ t: 0, lat: 90.5, lon: 8 }, 'lat'], [{ t: 0, lat: 47, lon: -180.01 }, 'lon'], [{ t: 0, lat: '47', lon: 8 }, 'lat']] as const) {
      const r = parseWireBatch([bad]);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ code: 'SAMPLE_INVALID', message: expect.stringContaining(`samples[0].${field}`) });
    }
  });

  it('pass through as sent; half a position or (0, 0) (no fix) is no position', () => {
    const out = createLiveNormalizer().push(
      parseOk([
        { t: 0, lat: 47.3769, lon: 8.5417 },
        { t: 1, lat: 47.37695, lon: null },
        { t: 2, lat: 0, lon: 0 },
        { t: 3, hr: 120 },
        { t: 4, lat: -33.8688, lon: 151.2093 },
      ]),
    );
    expect(out.samples.map((s) => [s.lat, s.lon])).toEqual([
      [47.3769, 8.5417],
      [NaN, NaN],
      [NaN, NaN],
      [NaN, NaN],
      [-33.8688, 151.2093],
    ]);
  });
});

describe('createLiveNormalizer', () => {
  it('passes plausible values through unchanged and turns implausible ones into counted NaN', () => {
    const norm = createLiveNormalizer();
    const out = norm.push(
      parseOk([
        { t: 0, hr: 25, cadence: 0, speed: 12, distance: 0, altitude: -12.4, temperature: 21.5, respiration: 30, power: 250 },
        { t: 1, hr: 24.9, cadence: 260.5, speed: 12.01, altitude: 9001, respiration: 2, power: -1 },
        { t: 2, hr: 251, cadence: 171.5, speed: 3.333 },
      ]),
    );
    expect(out.samples.map((s) => [s.t, s.hr, s.cadence, s.speed])).toEqual([
      [0, 25, 0, 12],
      [1, NaN, NaN, NaN],
      [2, NaN, 171.5, 3.333],
    ]);
    expect(out.samples[0]).toMatchObject({ altitude: -12.4, temperature: 21.5, respiration: 30, power: 250 });
    expect(Number.isNaN(out.samples[1]!.altitude)).toBe(true);
    expect(Number.isNaN(out.samples[1]!.distance)).toBe(true); // absent stays missing, not counted
    expect(out.implausible).toBe(7);
    expect(out.flags).toBe(LiveFlag.IMPLAUSIBLE);
    expect(norm.state().implausible).toMatchObject({ hr: 2, cadence: 1, speed: 1, altitude: 1, respiration: 1, power: 1 });
    const codes = norm.warnings().map((w) => w.code);
    // The FIT path's codes, so a report reads the same whatever the source.
    expect(codes).toEqual(expect.arrayContaining(['implausible_hr', 'speed_spike', 'implausible_power']));
  });

  it('drops samples whose t goes backwards or repeats, and counts them', () => {
    const norm = createLiveNormalizer();
    const out = norm.push(parseOk([{ t: 0 }, { t: 1 }, { t: 1 }, { t: 0.5 }, { t: 2 }, { t: 1.5 }, { t: 3 }]));
    expect(out.samples.map((s) => s.t)).toEqual([0, 1, 2, 3]);
    expect(out.droppedTime).toBe(3);
    expect(out.flags & LiveFlag.TIME_DROPPED).toBeTruthy();
    // A resend of an earlier batch is dropped whole.
    const again = norm.push(parseOk([{ t: 2 }, { t: 3 }]));
    expect(again.samples).toHaveLength(0);
    expect(norm.state()).toMatchObject({ accepted: 4, droppedTime: 5, lastT: 3 });
    expect(norm.warnings()).toEqual([expect.objectContaining({ code: 'time_backwards', count: 5 })]);
  });

  it('derives t from timestamps: the first timestamp is the run start unless one is given', () => {
    const first = createLiveNormalizer().push(
      parseOk([{ timestamp: T0 }, { timestamp: new Date(T0 + 1500).toISOString() }, { timestamp: T0 + 3000 }]),
    );
    expect(first.samples.map((s) => [s.t, s.timestamp])).toEqual([
      [0, T0],
      [1.5, T0 + 1500],
      [3, T0 + 3000],
    ]);

    const started = createLiveNormalizer({ startMs: T0 - 10_000 });
    const out = started.push(parseOk([{ timestamp: T0 - 20_000 }, { timestamp: T0 }, { t: 12 }]));
    // Before the run start → dropped; t-only samples get their timestamp from the start.
    expect(out.samples.map((s) => [s.t, s.timestamp])).toEqual([
      [10, T0],
      [12, T0 + 2000],
    ]);
    expect(out.droppedTime).toBe(1);
  });

  it('a sample carrying both t and timestamp pins the run start for later timestamp-only samples', () => {
    const out = createLiveNormalizer().push(parseOk([{ t: 5, timestamp: T0 }, { timestamp: T0 + 1000 }]));
    expect(out.samples.map((s) => s.t)).toEqual([5, 6]);
  });

  it('a jump of more than a day is dropped unless the next sample continues from it', () => {
    const day = 86_400;
    const norm = createLiveNormalizer();
    // A corrupt clock: one sample far ahead, then the stream carries on where it was.
    const corrupt = norm.push(parseOk([{ t: 0 }, { t: 1 }, { t: 1 + 3 * day }, { t: 2 }, { t: 3 }]));
    expect(corrupt.samples.map((s) => s.t)).toEqual([0, 1, 2, 3]);
    expect(corrupt.flags & LiveFlag.TIME_JUMP).toBeTruthy();
    // A real gap (a watch left recording overnight): the second sample after it confirms it.
    const gap = norm.push(parseOk([{ t: 3 + 2 * day }, { t: 4 + 2 * day }, { t: 5 + 2 * day }]));
    expect(gap.samples.map((s) => s.t)).toEqual([4 + 2 * day, 5 + 2 * day]);
    expect(norm.warnings()).toEqual([expect.objectContaining({ code: 'time_jump', count: 2 })]);
  });

  it('estimates missing respiration from RR only when asked, and never overrides the watch', () => {
    // 90 s of RR at 150 beats/min modulated at 20 breaths/min, one sample a second.
    const wire: WireSample[] = [];
    let beatT = 0;
    for (let t = 1; t <= 90; t++) {
      const rr: number[] = [];
      while (beatT < t) {
        const ms = 400 + 6 * Math.sin(2 * Math.PI * (20 / 60) * beatT);
        beatT += ms / 1000;
        rr.push(ms);
      }
      wire.push({ t, hr: 150, rr, respiration: t === 90 ? 33 : null });
    }
    const plain = createLiveNormalizer().push(wire);
    expect(plain.samples.every((s) => Number.isNaN(s.respiration) || s.t === 90)).toBe(true);

    const withEstimate = createLiveNormalizer({ respirationFromRr: true });
    const out = withEstimate.push(wire.slice(0, 60));
    expect(Number.isNaN(out.samples[10]!.respiration)).toBe(true); // window not filled yet
    expect(out.samples[59]!.respiration).toBeCloseTo(20, 0);
    // The estimator's state travels with the normaliser's.
    const resumed = createLiveNormalizer(JSON.parse(JSON.stringify(withEstimate.state())));
    const rest = resumed.push(wire.slice(60));
    expect(rest.samples[28]!.respiration).toBeCloseTo(20, 0);
    expect(rest.samples[29]!.respiration).toBe(33); // the watch's own value wins
  });

  it('without any timestamp, Sample.timestamp stays missing', () => {
    const out = createLiveNormalizer().push(parseOk([{ t: 0, hr: 100 }]));
    expect(Number.isNaN(out.samples[0]!.timestamp)).toBe(true);
  });

  it('emits RR beats with estimated end times and drops implausible intervals', () => {
    const norm = createLiveNormalizer();
    const out = norm.push(parseOk([{ t: 10, rr: [400, 100, 600] }, { t: 11, rr: [] }, { t: 12, rr: [3000, 500] }]));
    expect(out.rrMs).toEqual([400, 600, 500]);
    // The last beat of a sample ends at the sample's t; earlier ones before it.
    expect(out.rrT).toEqual([9.4, 10, 12]);
    expect(out.droppedRr).toBe(2);
    expect(out.flags).toBe(LiveFlag.RR_DROPPED);
    expect(norm.warnings().map((w) => w.code)).toEqual(['implausible_rr']);
  });

  it('reuses the output arrays and Sample objects passed back in', () => {
    const norm = createLiveNormalizer();
    const out = createLiveBatchOutput();
    norm.push(parseOk([{ t: 0, hr: 100 }, { t: 1, hr: 101 }, { t: 2, hr: 102 }]), out);
    const [a, b, c] = out.samples;
    const again = norm.push(parseOk([{ t: 3, hr: 103 }, { t: 4, hr: 104 }]), out);
    expect(again).toBe(out);
    expect(out.samples).toHaveLength(2);
    expect(out.samples[0]).toBe(a);
    expect(out.samples[1]).toBe(b);
    expect(out.samples.map((s) => s.hr)).toEqual([103, 104]);
    norm.push(parseOk([{ t: 5 }, { t: 6 }, { t: 7 }]), out);
    expect(out.samples[2]).toBe(c);
  });

  it('refuses a malformed saved state with LIVE_STATE_INVALID', () => {
    const bad = { lastT: 'yesterday' } as unknown as Parameters<typeof createLiveNormalizer>[0];
    expect(() => createLiveNormalizer(bad)).toThrow(IngestError);
    try {
      createLiveNormalizer(bad);
    } catch (e) {
      expect((e as IngestError).code).toBe('LIVE_STATE_INVALID');
    }
  });

  it('any batching and a JSON round trip of the state at any point give the same stream', () => {
    const value = (ch: (typeof CHANNELS)[number]) => {
      const [lo, hi] = PLAUSIBLE[ch];
      // Mostly plausible, some out of range, some missing.
      return fc.oneof(
        { arbitrary: fc.double({ min: lo, max: hi, noNaN: true }), weight: 6 },
        { arbitrary: fc.double({ min: hi, max: hi * 3 + 10, noNaN: true }), weight: 1 },
        { arbitrary: fc.constant(null), weight: 1 },
      );
    };
    const sampleArb = fc.record({
      dt: fc.oneof(fc.constant(1), fc.constant(0), fc.constant(-1), fc.double({ min: 0.1, max: 5, noNaN: true })),
      withTimestamp: fc.boolean(),
      hr: value('hr'),
      cadence: value('cadence'),
      speed: value('speed'),
      rr: fc.option(fc.array(fc.integer({ min: 100, max: 3000 }), { maxLength: 4 })),
    });
    fc.assert(
      fc.property(
        fc.array(sampleArb, { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        (steps, cuts, restartAt) => {
          let t = 0;
          const wire: WireSample[] = steps.map((s) => {
            t = Math.max(0, t + s.dt);
            const w: WireSample = { hr: s.hr, cadence: s.cadence, speed: s.speed, rr: s.rr };
            if (s.withTimestamp) w.timestamp = T0 + Math.round(t * 1000);
            else w.t = Math.round(t * 1000) / 1000;
            return w;
          });
          const reference = collect(createLiveNormalizer({ startMs: T0 }), [wire]);

          const batches: WireSample[][] = [];
          for (let i = 0, k = 0; i < wire.length; k++) {
            const size = cuts[k % cuts.length]!;
            batches.push(wire.slice(i, i + size));
            i += size;
          }
          let norm = createLiveNormalizer({ startMs: T0 });
          const got: ReturnType<typeof collect> = { samples: [], rr: [] };
          const restart = restartAt % batches.length;
          batches.forEach((b, i) => {
            if (i === restart) norm = createLiveNormalizer(JSON.parse(JSON.stringify(norm.state())));
            const part = collect(norm, [b]);
            got.samples.push(...part.samples);
            got.rr.push(...part.rr);
          });
          expect(got).toEqual(reference);
          expect(norm.state()).toEqual(createLiveNormalizerAfter(wire));
        },
      ),
      { numRuns: 150 },
    );
  });
});

function createLiveNormalizerAfter(wire: WireSample[]) {
  const n = createLiveNormalizer({ startMs: T0 });
  n.push(wire);
  return n.state();
}

function collect(norm: ReturnType<typeof createLiveNormalizer>, batches: WireSample[][]) {
  const samples: Sample[] = [];
  const rr: [number, number][] = [];
  for (const b of batches) {
    const out = norm.push(b);
    samples.push(...out.samples.map((s) => ({ ...s })));
    out.rrT.forEach((t, i) => rr.push([t, out.rrMs[i]!]));
  }
  return { samples, rr };
}
