import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/sim/random.js';
import { DEFAULT_ATHLETE, pause, run, runningVo2, simulate, type SimConfig } from '../../src/sim/simulate.js';
import { writeFit } from '../../src/sim/write-fit.js';

const START = '2026-06-01T06:30:00Z';

function base(extra: Partial<SimConfig> = {}): SimConfig {
  return { seed: 7, startTime: START, tempC: 10, humidity: 50, plan: [run(40, 2.8)], ...extra };
}

/** Mean of `values` over rows whose t is in [from, to), skipping missing values. */
function mean(t: Float64Array, values: Float64Array, from: number, to: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i]! >= from && t[i]! < to && Number.isFinite(values[i]!)) {
      sum += values[i]!;
      n++;
    }
  }
  return sum / n;
}

describe('random', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const seqA = Array.from({ length: 50 }, () => a.uniform());
    expect(Array.from({ length: 50 }, () => b.uniform())).toEqual(seqA);
    expect(Array.from({ length: 50 }, () => c.uniform())).not.toEqual(seqA);
  });

  it('gives normals with mean ~0 and sd ~1', () => {
    const r = createRandom(1);
    const xs = Array.from({ length: 20_000 }, () => r.normal());
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});

describe('simulate', () => {
  it('is deterministic: the same seed gives the same FIT bytes, another seed other bytes', () => {
    const cfg = base({ plan: [run(10, 2.8), pause(60), run(5, 3.2, { lap: true })], channels: { respiration: true } });
    const a = writeFit(simulate(cfg));
    const b = writeFit(simulate(cfg));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const c = writeFit(simulate({ ...cfg, seed: 8 }));
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('holds the steady HR the ACSM equation and HR reserve predict', () => {
    // 2.8 m/s = 168 m/min: VO2 = 0.2·168 + 3.5 = 37.1; %VO2R = 33.6 / 52.5 = 0.64; HR = 50 + 0.64·138 = 138.3.
    expect(runningVo2(2.8, 0)).toBeCloseTo(37.1, 6);
    const r = simulate(base({ hydration: { sweatRateLPerH: 0 } }));
    expect(mean(r.samples.t, r.truth.hr, 600, 1800)).toBeGreaterThan(136.5);
    expect(mean(r.samples.t, r.truth.hr, 600, 1800)).toBeLessThan(140.5);
    // Uphill costs more: 5 % at 2.8 m/s adds 0.9·168·0.05 = 7.56 mL/kg/min.
    expect(runningVo2(2.8, 0.05) - runningVo2(2.8, 0)).toBeCloseTo(7.56, 6);
    expect(runningVo2(2.8, -0.05)).toBeLessThan(runningVo2(2.8, 0));
    expect(runningVo2(2.8, -0.05)).toBeGreaterThan(runningVo2(2.8, -0.1) - 1e-9);
  });

  it('keeps true and measured HR within rest..max, even flat out', () => {
    const r = simulate(base({ plan: [run(5, 2.5), run(10, 6), pause(120), run(5, 2.5)] }));
    const { hrRest, hrMax } = DEFAULT_ATHLETE;
    for (let i = 0; i < r.samples.length; i++) {
      expect(r.truth.hr[i]!).toBeGreaterThanOrEqual(hrRest);
      expect(r.truth.hr[i]!).toBeLessThanOrEqual(hrMax);
      expect(r.samples.hr[i]!).toBeGreaterThanOrEqual(hrRest);
      expect(r.samples.hr[i]!).toBeLessThanOrEqual(hrMax + 3); // sensor noise around a true HRmax
    }
    expect(Math.max(...r.truth.hr)).toBeGreaterThan(hrMax - 2);
  });

  it('moves HR towards a new effort with a first-order lag of ~40 s', () => {
    const r = simulate(base({ plan: [run(10, 2.5), run(10, 3.8)], hydration: { sweatRateLPerH: 0 } }));
    const before = mean(r.samples.t, r.truth.hr, 480, 600);
    const after = mean(r.samples.t, r.truth.hr, 960, 1200);
    const threshold = before + (after - before) * (1 - Math.exp(-1));
    let reached = NaN;
    for (let i = 0; i < r.samples.length; i++) {
      if (r.samples.t[i]! >= 600 && r.truth.hr[i]! >= threshold) {
        reached = r.samples.t[i]! - 600;
        break;
      }
    }
    // The 4 s speed lag adds a little to the 40 s HR time constant.
    expect(reached).toBeGreaterThan(35);
    expect(reached).toBeLessThan(55);
  });

  it('adds cardiac drift in heat and when injected, and none in the cool without it', () => {
    const long = [run(120, 2.8)];
    const rise = (cfg: SimConfig) => {
      const r = simulate(cfg);
      return mean(r.samples.t, r.truth.hr, 6600, 7200) / mean(r.samples.t, r.truth.hr, 600, 1200) - 1;
    };
    const cool = rise(base({ plan: long, tempC: 12, hydration: { sweatRateLPerH: 0 } }));
    expect(Math.abs(cool)).toBeLessThan(0.015);
    // 29 °C: 0.8 %/h per °C over 18 °C = 8.8 %/h from minute 15, ~13 % by the last 10 min, plus dehydration.
    const hot = rise(base({ plan: long, tempC: 29 }));
    expect(hot).toBeGreaterThan(0.15);
    const hotNoHeatModel = rise(base({ plan: long, tempC: 29, heatDrift: false, hydration: { sweatRateLPerH: 0 } }));
    expect(Math.abs(hotNoHeatModel)).toBeLessThan(0.015);
    // Injected 10 %/h from minute 60: ~8.3 % by 110–120 min.
    const injected = rise(base({ plan: long, tempC: 12, hydration: { sweatRateLPerH: 0 }, drift: { onsetS: 3600, pctPerHour: 10 } }));
    expect(injected).toBeGreaterThan(0.065);
    expect(injected).toBeLessThan(0.1);
  });

  it('raises HR by ~3 bpm per 1 % of body mass lost', () => {
    // 1.36 L/h for 60 min from a 68 kg runner = 2 % → +6 bpm by the end (no heat drift at 10 °C).
    const dry = simulate(base({ plan: [run(60, 2.8)], hydration: { sweatRateLPerH: 1.36 } }));
    const wet = simulate(base({ plan: [run(60, 2.8)], hydration: { sweatRateLPerH: 1.36, drinkMlPerH: 1360 } }));
    const gap = mean(dry.samples.t, dry.truth.hr, 3300, 3600) - mean(wet.samples.t, wet.truth.hr, 3300, 3600);
    expect(gap).toBeGreaterThan(5);
    expect(gap).toBeLessThan(6.5);
  });

  it('writes HR dropouts as missing values, never 0', () => {
    const r = simulate(base({ defects: { hrDropouts: [[300, 360], [900, 905]] } }));
    for (let i = 0; i < r.samples.length; i++) {
      const t = r.samples.t[i]!;
      const inGap = (t >= 300 && t < 360) || (t >= 900 && t < 905);
      expect(Number.isNaN(r.samples.hr[i]!)).toBe(inGap);
      expect(r.samples.hr[i]).not.toBe(0);
    }
  });

  it('reads the step rate as HR during a cadence lock', () => {
    const r = simulate(base({ defects: { cadenceLock: [[1200, 1500]] } }));
    for (let i = 0; i < r.samples.length; i++) {
      const t = r.samples.t[i]!;
      const gap = Math.abs(r.samples.hr[i]! - r.samples.cadence[i]!);
      if (t >= 1200 && t < 1500) expect(gap).toBeLessThan(5);
      else if (t > 600) expect(gap).toBeGreaterThan(15); // easy HR ~138 vs cadence ~166
    }
  });

  it('puts GPS speed spikes into speed and distance, and nowhere else', () => {
    const clean = simulate(base());
    const spiky = simulate(base({ defects: { speedSpikes: [1000] } }));
    const at = (t: number) => t; // one row per second from t = 0 with no pauses
    expect(spiky.samples.speed[at(1000)]!).toBeGreaterThan(7);
    expect(spiky.samples.speed[at(1001)]!).toBeGreaterThan(7);
    expect(spiky.samples.speed[at(1002)]!).toBeLessThan(4);
    expect(spiky.samples.speed[at(999)]).toBe(clean.samples.speed[at(999)]);
    const jump = spiky.samples.distance[at(1001)]! - clean.samples.distance[at(1001)]!;
    expect(jump).toBeGreaterThan(10);
    expect(jump).toBeLessThan(14.01);
    expect(Array.from(spiky.samples.hr)).toEqual(Array.from(clean.samples.hr));
  });

  it('records nothing while paused and lets HR recover', () => {
    const r = simulate(base({ plan: [run(20, 2.8), pause(180), run(10, 2.8, { lap: true })] }));
    expect(r.samples.length).toBe(1800);
    expect(r.elapsedS).toBe(1980);
    expect(r.timerS).toBe(1800);
    for (let i = 0; i < r.samples.length; i++) {
      const t = r.samples.t[i]!;
      expect(t < 1200 || t >= 1380).toBe(true);
    }
    expect(r.events).toEqual([
      { t: 1200, type: 'pause' },
      { t: 1380, type: 'resume' },
      { t: 1380, type: 'lap' },
    ]);
    expect(r.laps.map((l) => [l.startT, l.endT])).toEqual([[0, 1380], [1380, 1980]]);
    const beforeStop = r.truth.hr[1199]!;
    const afterStop = r.truth.hr[1200]!;
    expect(beforeStop - afterStop).toBeGreaterThan(35); // three minutes standing: most of the way down
  });

  it('fades cadence after the onset at constant speed, and lifts respiration when asked', () => {
    const r = simulate(
      base({
        plan: [run(90, 2.8)],
        channels: { respiration: true },
        cadenceFade: { onsetS: 3600, pctPerHour: 10 },
        respiration: { riseOnsetS: 3600, risePerHour: 20 },
      }),
    );
    const cadEarly = mean(r.samples.t, r.samples.cadence, 1800, 3600);
    const cadLate = mean(r.samples.t, r.samples.cadence, 5100, 5400);
    expect(cadLate / cadEarly - 1).toBeLessThan(-0.04); // ~ -5 % by 30 min after onset
    expect(cadLate / cadEarly - 1).toBeGreaterThan(-0.06);
    const respEarly = mean(r.samples.t, r.samples.respiration, 1800, 3600);
    const respLate = mean(r.samples.t, r.samples.respiration, 5100, 5400);
    expect(respLate - respEarly).toBeGreaterThan(8); // +20/h for ~29 min, lagged 20 s
    expect(respLate - respEarly).toBeLessThan(11);
    expect(Math.abs(mean(r.samples.t, r.samples.speed, 5100, 5400) - 2.8)).toBeLessThan(0.1);
  });

  it('walks a run-walk break at walking cadence and effort', () => {
    const r = simulate(base({ plan: [run(10, 2.8), run(2, 1.6, { walk: true }), run(5, 2.8)], hydration: { sweatRateLPerH: 0 } }));
    const walkCadence = mean(r.samples.t, r.samples.cadence, 630, 720);
    expect(walkCadence).toBeGreaterThan(100); // walkers step at ~100–125/min, runners at 150+
    expect(walkCadence).toBeLessThan(125);
    // ACSM walking equation at 96 m/min: VO2 = 0.1·96 + 3.5 = 13.1 → 18 % of VO2 reserve.
    expect(mean(r.samples.t, r.truth.effort, 630, 720)).toBeCloseTo(9.6 / 52.5, 2);
    expect(r.truth.hr[719]!).toBeLessThan(r.truth.hr[599]! - 30);
  });

  it('leaves out channels the device lacks', () => {
    const r = simulate(base({ channels: { speed: false, distance: false, altitude: false } }));
    expect(r.channels).toEqual(['hr', 'cadence', 'temperature']);
    expect(r.samples.speed.every((v) => Number.isNaN(v))).toBe(true);
    expect(r.samples.cadence.every((v) => v > 100)).toBe(true);
  });

  it('refuses plans that cannot be recorded', () => {
    expect(() => simulate(base({ plan: [pause(30), run(10, 2.8)] }))).toThrow(/starts and ends with a run/);
    expect(() => simulate(base({ plan: [run(0.5, 0)] }))).toThrow(/speedMps/);
    expect(() => simulate(base({ plan: [{ kind: 'run', durationS: 10.5, speedMps: 3 }] }))).toThrow(/whole number/);
    expect(() => simulate(base({ startTime: 'yesterday' }))).toThrow(/not a date/);
  });
});
