/**
 * The labelled scenario suite: each entry is a simulated run (see simulate.ts) and what a sound in-run
 * coach would and would not say during it, in the label format of ../shared/scenarios/README.md (read by
 * ../shared/eval/score-scenarios.mjs). The labels are coaching judgement written before looking at any
 * engine's output; `why` records the reasoning behind each run's windows.
 *
 * Times are seconds since the first record (pauses included). The athlete is the one of the shared
 * examples: 68 kg, HR rest 50, max 188; VO2max 56 mL/kg/min, so 2.8 m/s (5:57/km) is easy (~64 % HRR).
 * Prompt volume for hydrate: one prompt is taken to be worth ~200 mL (a few mouthfuls), so the IMMDA
 * ceiling of 800 mL/h (science.md §3.1) is at most 4 hydrate prompts an hour.
 * @module
 */
import type { AlertKind, Conditions, Profile } from '../../alerts/types.js';
import { pause, repeat, run, type PlanSegment, type SimConfig } from './simulate.js';

/** One check on the prompts, as the scorer reads it. */
export interface Expectation {
  kind: AlertKind | '*';
  min?: number;
  max?: number;
  from?: number;
  to?: number;
  minGapS?: number;
  maxPerHour?: number;
}

export interface Scenario {
  name: string;
  /** One line: what the run is. */
  summary: string;
  /** Why the labels are what they are. */
  why: string;
  sim: SimConfig;
  profile: Profile;
  conditions: Required<Conditions>;
  expect: Expectation[];
}

const PROFILE: Profile = { massKg: 68, hrRest: 50, hrMax: 188, usualLongRunMin: 150, easyPaceMps: 2.8 };
const EASY = 2.8;

/** Easy start: 6 min rising from a jog to easy pace. */
const easyStart = (): PlanSegment => run(6, 2.4, { endSpeedMps: EASY });
const day = (n: number, hhmm = '06:30') => `2026-06-${String(n).padStart(2, '0')}T${hhmm}:00Z`;
const nothing: Expectation[] = [{ kind: '*', max: 0 }];
const min = (m: number) => m * 60;

function easyRun(minutes: number): PlanSegment[] {
  return [easyStart(), run(minutes - 6, EASY)];
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'easy-45-cool',
    summary: '45 min easy at 10 °C, respiration recorded; nothing happens.',
    why: 'An easy run in the cool with steady HR, cadence and breathing: any prompt is nagging.',
    sim: { seed: 1001, startTime: day(1), tempC: 10, humidity: 60, plan: easyRun(45), channels: { respiration: true } },
    profile: PROFILE,
    conditions: { tempC: 10, humidity: 60 },
    expect: nothing,
  },
  {
    name: 'easy-hr-dropouts',
    summary: '50 min easy at 12 °C; HR missing for 30 s, 1 min, 3 min and 10 s.',
    why: 'Gaps are missing data, not effort: no prompt, and none when HR comes back.',
    sim: {
      seed: 1002,
      startTime: day(2),
      tempC: 12,
      humidity: 60,
      plan: easyRun(50),
      defects: { hrDropouts: [[420, 450], [1260, 1320], [2100, 2280], [2700, 2710]] },
    },
    profile: PROFILE,
    conditions: { tempC: 12, humidity: 60 },
    expect: nothing,
  },
  {
    name: 'easy-cadence-lock',
    summary: '50 min easy at 12 °C; the optical HR locks onto the step rate (~165) for 9 min and again for 2 min.',
    why: 'HR jumping 25 bpm in one second to the cadence value at unchanged pace is an artefact, not effort.',
    sim: {
      seed: 1003,
      startTime: day(3),
      tempC: 12,
      humidity: 60,
      plan: easyRun(50),
      defects: { cadenceLock: [[960, 1500], [2400, 2520]] },
    },
    profile: PROFILE,
    conditions: { tempC: 12, humidity: 60 },
    expect: nothing,
  },
  {
    name: 'easy-gps-spikes',
    summary: '50 min easy at 12 °C; ten 2 s GPS speed spikes of +5–7 m/s.',
    why: 'Spikes are GPS noise: they must not read as a fast start, an effort change or decoupling.',
    sim: {
      seed: 1004,
      startTime: day(4),
      tempC: 12,
      humidity: 60,
      plan: easyRun(50),
      defects: { speedSpikes: [150, 400, 700, 1100, 1350, 1800, 2050, 2300, 2600, 2850] },
    },
    profile: PROFILE,
    conditions: { tempC: 12, humidity: 60 },
    expect: nothing,
  },
  {
    name: 'hilly-easy',
    summary: '60 min easy by feel over six 4 min climbs at 7 % and descents, 14 °C; HR swings ~135–155.',
    why: 'HR rising on climbs and falling on descents is the terrain, not drift or a too-fast pace.',
    sim: {
      seed: 1005,
      startTime: day(5),
      tempC: 14,
      humidity: 55,
      plan: [
        easyStart(),
        ...repeat(6, [run(4, 2.5, { grade: 0.07 }), run(4, 3.2, { grade: -0.07 })]),
        run(6, EASY),
      ],
    },
    profile: PROFILE,
    conditions: { tempC: 14, humidity: 55 },
    expect: nothing,
  },
  {
    name: 'intervals-6x3',
    summary: '15 min warm-up, 6 × (3 min at 4.2 m/s, 2 min jog), 10 min cool-down, 15 °C; laps per rep.',
    why: 'Hard reps are the session: at most one slow_down (e.g. a first rep far too hard), never one per rep.',
    sim: {
      seed: 1006,
      startTime: day(6, '17:30'),
      tempC: 15,
      humidity: 60,
      plan: [
        run(5, 2.4, { endSpeedMps: EASY }),
        run(10, EASY),
        ...repeat(6, [run(3, 4.2, { lap: true }), run(2, 2.3, { lap: true })]),
        run(10, 2.6, { lap: true }),
      ],
    },
    profile: PROFILE,
    conditions: { tempC: 15, humidity: 60 },
    expect: [
      { kind: 'slow_down', max: 1 },
      { kind: 'breathe', max: 1 },
      { kind: 'hydrate', max: 0 },
      { kind: 'electrolytes', max: 0 },
    ],
  },
  {
    name: 'pause-mid-run',
    summary: '25 min easy, 3 min stop (timer paused), 25 min easy, 12 °C.',
    why: 'HR falls while stopped and rises again on restart: neither the gap nor the restart is a reason to prompt.',
    sim: {
      seed: 1007,
      startTime: day(7),
      tempC: 12,
      humidity: 60,
      plan: [easyStart(), run(19, EASY), pause(180), run(25, EASY, { lap: true })],
    },
    profile: PROFILE,
    conditions: { tempC: 12, humidity: 60 },
    expect: nothing,
  },
  {
    name: 'fast-start-easy',
    summary: 'An easy run started at 3.7 m/s (4:30/km, HR → ~165) for 7 min, then 38 min easy, 14 °C.',
    why: 'Running 30 % over easy pace from the gun is the classic fast start: ease off early; nothing once settled.',
    sim: {
      seed: 1008,
      startTime: day(8),
      tempC: 14,
      humidity: 55,
      plan: [run(7, 3.7), run(38, EASY)],
    },
    profile: PROFILE,
    conditions: { tempC: 14, humidity: 55 },
    expect: [
      { kind: 'slow_down', min: 1, from: 90, to: 480 },
      { kind: 'slow_down', max: 0, from: 900 },
      { kind: 'hydrate', max: 0 },
    ],
  },
  {
    name: 'race-10k-fast-start',
    summary: '10 km race: first 8 min at 4.4 m/s (13 % over race pace, HR near max), then 33 min at 3.9 m/s, 15 °C.',
    why: 'Starting 13 % over goal pace predicts a fade (Smyth): slow down early; racing at threshold after is the plan.',
    sim: {
      seed: 1009,
      startTime: day(9, '08:00'),
      tempC: 15,
      humidity: 60,
      plan: [run(8, 4.4), run(33, 3.9, { lap: true })],
    },
    profile: PROFILE,
    conditions: { tempC: 15, humidity: 60 },
    expect: [
      { kind: 'slow_down', min: 1, from: 90, to: 540 },
      { kind: 'slow_down', max: 2 },
    ],
  },
  {
    name: 'hot-long-drift',
    summary: '2 h easy at 29 °C / 60 %, no drinking recorded: heat drift plus dehydration lift HR ~138 → ~168.',
    why: 'In heat, drink early (first 45 min) and regularly but not more than ~800 mL/h; slow down once HR drift passes ~5 % (from ~45 min), not before 30 min.',
    sim: { seed: 1010, startTime: day(10, '10:00'), tempC: 29, humidity: 60, plan: easyRun(120) },
    profile: PROFILE,
    conditions: { tempC: 29, humidity: 60 },
    expect: [
      { kind: 'hydrate', min: 1, from: 0, to: 2700 },
      { kind: 'hydrate', minGapS: 600 },
      { kind: 'hydrate', maxPerHour: 4 },
      { kind: 'slow_down', max: 0, from: 0, to: 1800 },
      { kind: 'slow_down', min: 1, from: 2700, to: 7200 },
    ],
  },
  {
    name: 'hot-short-30',
    summary: '30 min easy at 30 °C / 50 %: ~0.6 L of sweat (under 1 % of body mass), HR up a few bpm.',
    why: 'Heat alone does not make a short easy run need fluids, salt or a slower pace: losses stay far below 2 % of body mass.',
    sim: { seed: 1023, startTime: day(23, '12:00'), tempC: 30, humidity: 50, plan: easyRun(30) },
    profile: PROFILE,
    conditions: { tempC: 30, humidity: 50 },
    expect: [
      { kind: 'hydrate', max: 0 },
      { kind: 'electrolytes', max: 0 },
      { kind: 'slow_down', max: 0 },
    ],
  },
  {
    name: 'cold-long-easy',
    summary: '100 min easy at 2 °C; sweat losses small, HR steady.',
    why: 'In the cold there is no case for drinking in the first hour, and nothing else happens.',
    sim: { seed: 1011, startTime: day(11, '07:30'), tempC: 2, humidity: 70, plan: easyRun(100) },
    profile: PROFILE,
    conditions: { tempC: 2, humidity: 70 },
    expect: [
      { kind: 'hydrate', max: 0, from: 0, to: 3600 },
      { kind: 'slow_down', max: 0 },
      { kind: 'breathe', max: 0 },
      { kind: 'electrolytes', max: 0 },
    ],
  },
  {
    name: 'long-cadence-fade',
    summary: '130 min at 2.85 m/s, 12 °C; from 95 min cadence fades 10 %/h and gets ragged at constant pace.',
    why: 'Cadence falling at unchanged pace is neuromuscular fatigue in the last quarter: slow down then, not earlier.',
    sim: {
      seed: 1012,
      startTime: day(12),
      tempC: 12,
      humidity: 60,
      plan: [easyStart(), run(124, 2.85)],
      cadenceFade: { onsetS: min(95), pctPerHour: 10, variabilityRisePerHour: 3 },
    },
    profile: PROFILE,
    conditions: { tempC: 12, humidity: 60 },
    expect: [
      { kind: 'slow_down', min: 1, from: min(105), to: min(130) },
      { kind: 'slow_down', max: 0, from: 0, to: min(90) },
    ],
  },
  {
    name: 'overload-long',
    summary: '130 min easy at 13 °C by a runner whose usual long run is 75 min.',
    why: 'Running 1.7× the usual long run is the strongest load risk: ease off late (past ~90 min); nothing in the first hour.',
    sim: { seed: 1013, startTime: day(13), tempC: 13, humidity: 60, plan: easyRun(130) },
    profile: { ...PROFILE, usualLongRunMin: 75 },
    conditions: { tempC: 13, humidity: 60 },
    expect: [
      { kind: '*', max: 0, from: 0, to: 3600 },
      { kind: 'slow_down', max: 0, from: 0, to: min(75) },
      { kind: 'slow_down', min: 1, from: min(90), to: min(130) },
    ],
  },
  {
    name: 'long-within-habit',
    summary: 'The same run as overload-long (same seed, same bytes) by a runner whose usual long run is 150 min.',
    why: 'Identical data, but 130 min is within habit: no slow_down before 100 min; the profile alone separates the two.',
    sim: { seed: 1013, startTime: day(13), tempC: 13, humidity: 60, plan: easyRun(130) },
    profile: PROFILE,
    conditions: { tempC: 13, humidity: 60 },
    expect: [
      { kind: '*', max: 0, from: 0, to: 3600 },
      { kind: 'slow_down', max: 0, from: 0, to: min(100) },
    ],
  },
  {
    name: 'rising-respiration',
    summary: '60 min at 3.0 m/s, 14 °C; from 30 min breathing rises 24 breaths/min per hour at steady pace and HR.',
    why: 'Breathing faster at the same pace and HR means effort is rising: a breathe prompt after it has risen, none before.',
    sim: {
      seed: 1014,
      startTime: day(14),
      tempC: 14,
      humidity: 55,
      plan: [run(6, 2.4, { endSpeedMps: 3 }), run(54, 3)],
      channels: { respiration: true },
      respiration: { riseOnsetS: min(30), risePerHour: 24 },
    },
    profile: PROFILE,
    conditions: { tempC: 14, humidity: 55 },
    expect: [
      { kind: 'breathe', min: 1, from: min(35), to: min(60) },
      { kind: 'breathe', max: 0, from: 0, to: min(25) },
      { kind: 'slow_down', max: 1 },
    ],
  },
  {
    name: 'hr-surge',
    summary: '50 min easy at 13 °C; HR surges +22 bpm for 6 min from minute 25 with no change of pace.',
    why: 'An HR jump without a pace change (cause effort_spike): calm the breathing then; nothing before.',
    sim: {
      seed: 1015,
      startTime: day(15),
      tempC: 13,
      humidity: 60,
      plan: easyRun(50),
      surges: [{ fromS: min(25), toS: min(31), bpm: 22 }],
    },
    profile: PROFILE,
    conditions: { tempC: 13, humidity: 60 },
    expect: [
      { kind: 'breathe', min: 1, from: min(25), to: min(35) },
      { kind: 'breathe', max: 0, from: 0, to: min(24) },
      { kind: 'slow_down', max: 1 },
    ],
  },
  {
    name: 'salty-sweater-hot',
    summary: '2 h easy at 27 °C by a salty sweater (70 mmol/L, 1.3 L/h) who drinks ~0.4 L/h (not recorded).',
    why: 'Sodium loss ~2 g/h makes electrolytes worth taking once past an hour, never in the first 30 min; drink early in the heat.',
    sim: {
      seed: 1016,
      startTime: day(16, '09:30'),
      tempC: 27,
      humidity: 55,
      plan: easyRun(120),
      hydration: { sweatRateLPerH: 1.3, drinkMlPerH: 400 },
    },
    profile: { ...PROFILE, sweatSodiumMmolPerL: 70, sweatRateMlPerH: 1300 },
    conditions: { tempC: 27, humidity: 55 },
    expect: [
      { kind: 'electrolytes', max: 0, from: 0, to: 1800 },
      { kind: 'electrolytes', min: 1, from: 3600, to: 7200 },
      { kind: 'hydrate', min: 1, from: 0, to: 2700 },
      { kind: 'hydrate', minGapS: 600 },
      { kind: 'hydrate', maxPerHour: 4 },
    ],
  },
  {
    name: 'ten-minute-run',
    summary: 'A 10 min easy jog at 15 °C.',
    why: 'Too short for drift, fluid losses or fatigue: nothing at all.',
    sim: { seed: 1017, startTime: day(17), tempC: 15, humidity: 60, plan: [run(3, 2.4, { endSpeedMps: 2.9 }), run(7, 2.9)] },
    profile: PROFILE,
    conditions: { tempC: 15, humidity: 60 },
    expect: nothing,
  },
  {
    name: 'treadmill-no-speed',
    summary: '45 min steady on a treadmill at 20 °C: HR and cadence, no speed, distance or altitude.',
    why: 'Missing speed must not look like stopping or like HR rising at zero pace: nothing to say.',
    sim: {
      seed: 1018,
      startTime: day(18, '18:00'),
      tempC: 20,
      humidity: 50,
      plan: [run(5, 2.4, { endSpeedMps: 2.9 }), run(40, 2.9)],
      channels: { speed: false, distance: false, altitude: false },
      subSport: 'treadmill',
    },
    profile: PROFILE,
    conditions: { tempC: 20, humidity: 50 },
    expect: nothing,
  },
  {
    name: 'hr-only',
    summary: '40 min easy at 12 °C recorded by an HR strap alone (no speed, cadence, altitude, temperature).',
    why: 'Steady easy HR with nothing else measured: no basis for any prompt.',
    sim: {
      seed: 1019,
      startTime: day(19),
      tempC: 12,
      humidity: 60,
      plan: easyRun(40),
      channels: { cadence: false, speed: false, distance: false, altitude: false, temperature: false },
    },
    profile: PROFILE,
    conditions: { tempC: 12, humidity: 60 },
    expect: nothing,
  },
  {
    name: 'run-walk-easy',
    summary: '60 min run-walk at 16 °C: 9 min easy running, 1 min brisk walk (1.6 m/s, cadence ~115), six times.',
    why: 'Walk breaks are the plan: the cadence and pace drops are a change of gait, not fatigue; nothing to say.',
    sim: {
      seed: 1021,
      startTime: day(21),
      tempC: 16,
      humidity: 60,
      plan: [...repeat(5, [run(9, EASY), run(1, 1.6, { walk: true })]), run(9, EASY), run(1, 1.6, { walk: true })],
    },
    profile: PROFILE,
    conditions: { tempC: 16, humidity: 60 },
    expect: nothing,
  },
  {
    name: 'progression-run',
    summary: '50 min progression at 15 °C: speed rising steadily from 2.6 to 3.7 m/s over 44 min, 6 min cool-down.',
    why: 'HR rising with pace is not drift or decoupling: no slow_down in the first 30 min; the hard finish is planned, so at most one.',
    sim: {
      seed: 1022,
      startTime: day(22, '17:30'),
      tempC: 15,
      humidity: 60,
      plan: [run(44, 2.6, { endSpeedMps: 3.7 }), run(6, 2.6, { lap: true })],
    },
    profile: PROFILE,
    conditions: { tempC: 15, humidity: 60 },
    expect: [
      { kind: 'slow_down', max: 0, from: 0, to: min(30) },
      { kind: 'slow_down', max: 1 },
      { kind: 'breathe', max: 1 },
      { kind: 'hydrate', max: 0 },
      { kind: 'electrolytes', max: 0 },
    ],
  },
  {
    name: 'tempo-30',
    summary: '12 min warm-up, 30 min tempo at 3.55 m/s (HR ~160, 80 % HRR), 8 min cool-down, 16 °C.',
    why: 'A controlled threshold session: hard by design; at most one slow_down, no nagging, no fluids needed.',
    sim: {
      seed: 1020,
      startTime: day(20, '17:30'),
      tempC: 16,
      humidity: 60,
      plan: [easyStart(), run(6, EASY), run(30, 3.55, { lap: true }), run(8, 2.6, { lap: true })],
    },
    profile: PROFILE,
    conditions: { tempC: 16, humidity: 60 },
    expect: [
      { kind: 'slow_down', max: 1 },
      { kind: 'breathe', max: 1 },
      { kind: 'hydrate', max: 0 },
      { kind: 'electrolytes', max: 0 },
    ],
  },
];
