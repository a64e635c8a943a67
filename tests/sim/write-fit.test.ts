import FitParser from 'fit-file-parser';
import { describe, expect, it } from 'vitest';
import { pause, run, simulate, type SimConfig } from '../../src/sim/simulate.js';
import { fitCadence, writeFit } from '../../src/sim/write-fit.js';

// fit-file-parser's output is loosely typed; the fields read here are the FIT profile's names.
type Row = Record<string, unknown>;
interface Decoded {
  file_ids: Row[];
  records: Row[];
  events: Row[];
  laps: Row[];
  sessions: Row[];
  activity: Row;
  sports: Row[];
  device_infos: Row[];
}

async function decode(bytes: Uint8Array): Promise<Decoded> {
  // force: false makes the parser check the header and file CRCs as well.
  const parser = new FitParser({ mode: 'list', force: false });
  return (await parser.parseAsync(Buffer.from(bytes))) as unknown as Decoded;
}

const START = '2026-06-01T06:30:00Z';
const startMs = Date.parse(START);
const cfg: SimConfig = {
  seed: 11,
  startTime: START,
  tempC: 18,
  humidity: 50,
  plan: [run(8, 2.5, { endSpeedMps: 3 }), run(6, 3.4, { grade: 0.04 }), pause(90), run(6, 2.9, { lap: true, grade: -0.03 })],
  channels: { respiration: true },
  defects: { hrDropouts: [[100, 130]], speedSpikes: [400] },
};

describe('writeFit', () => {
  it('round-trips every record value within FIT scaling', async () => {
    const sim = simulate(cfg);
    const fit = await decode(writeFit(sim));
    const s = sim.samples;
    expect(fit.records).toHaveLength(s.length);
    for (let i = 0; i < s.length; i++) {
      const rec = fit.records[i]!;
      expect((rec.timestamp as Date).getTime()).toBe(startMs + s.t[i]! * 1000);
      if (Number.isNaN(s.hr[i]!)) expect(rec.heart_rate).toBeUndefined();
      else expect(rec.heart_rate).toBe(s.hr[i]);
      // cadence is strides/min of one leg, plus the fraction in 1/128: twice it is steps/min.
      const steps = 2 * ((rec.cadence as number) + (rec.fractional_cadence as number));
      expect(Math.abs(steps - s.cadence[i]!)).toBeLessThanOrEqual(1 / 128 + 1e-9);
      expect(Math.abs((rec.distance as number) - s.distance[i]!)).toBeLessThanOrEqual(0.005 + 1e-9);
      expect(Math.abs((rec.enhanced_speed as number) - s.speed[i]!)).toBeLessThanOrEqual(0.0005 + 1e-9);
      expect(Math.abs((rec.enhanced_altitude as number) - s.altitude[i]!)).toBeLessThanOrEqual(0.1 + 1e-9);
      expect(Math.abs((rec.temperature as number) - s.temperature[i]!)).toBeLessThanOrEqual(0.5);
      expect(Math.abs((rec.enhanced_respiration_rate as number) - s.respiration[i]!)).toBeLessThanOrEqual(0.005 + 1e-9);
    }
  });

  it('writes a running activity with timer events, laps, session and activity messages', async () => {
    const sim = simulate(cfg);
    const fit = await decode(writeFit(sim));
    expect(fit.file_ids[0]).toMatchObject({ type: 'activity', manufacturer: 'development' });
    expect(fit.sports[0]).toMatchObject({ sport: 'running', sub_sport: 'generic' });
    expect(fit.device_infos[0]).toMatchObject({ device_index: 'creator' });
    const at = (s: number) => new Date(startMs + s * 1000).toISOString();
    expect(fit.events.map((e) => [(e.timestamp as Date).toISOString(), e.event, e.event_type])).toEqual([
      [at(0), 'timer', 'start'],
      [at(840), 'timer', 'stop_all'],
      [at(930), 'timer', 'start'],
      [at(1290), 'timer', 'stop_all'],
    ]);
    expect(fit.laps).toHaveLength(2);
    expect(fit.laps[0]).toMatchObject({ total_elapsed_time: 930, total_timer_time: 840, sport: 'running' });
    expect(fit.laps[1]).toMatchObject({ total_elapsed_time: 360, total_timer_time: 360 });
    const session = fit.sessions[0]!;
    expect(session).toMatchObject({ sport: 'running', total_elapsed_time: 1290, total_timer_time: 1200, num_laps: 2 });
    const lastDistance = sim.samples.distance[sim.samples.length - 1]!;
    expect(Math.abs((session.total_distance as number) - lastDistance)).toBeLessThan(0.01);
    // The true climb: the uphill segment's rows (t 480..839) at their true speed times 4 %.
    let climbed = 0;
    for (let i = 480; i < 840; i++) climbed += sim.truth.speed[i]! * 0.04;
    expect(climbed).toBeGreaterThan(45);
    expect(Math.abs((session.total_ascent as number) - climbed)).toBeLessThan(climbed * 0.2);
    expect(fit.activity).toMatchObject({ num_sessions: 1, total_timer_time: 1200, event: 'activity' });
  });

  it('leaves absent channels out and marks a treadmill run', async () => {
    const sim = simulate({ ...cfg, plan: [run(10, 3)], subSport: 'treadmill', channels: { speed: false, distance: false, altitude: false } });
    const fit = await decode(writeFit(sim));
    for (const rec of fit.records) {
      expect(rec).not.toHaveProperty('enhanced_speed');
      expect(rec).not.toHaveProperty('distance');
      expect(rec).not.toHaveProperty('enhanced_altitude');
      expect(rec).toHaveProperty('cadence');
    }
    expect(fit.sessions[0]).toMatchObject({ sport: 'running', sub_sport: 'treadmill' });
    expect(fit.sessions[0]).not.toHaveProperty('total_distance');
  });

  it('splits steps/min into whole strides and 1/128 fractions', () => {
    expect(fitCadence(170)).toEqual({ cadence: 85, fractional: 0 });
    expect(fitCadence(171)).toEqual({ cadence: 85, fractional: 64 });
    expect(fitCadence(169.999)).toEqual({ cadence: 85, fractional: 0 }); // rounds up into the next whole stride
    expect(fitCadence(NaN).cadence).toBeNaN();
  });
});
