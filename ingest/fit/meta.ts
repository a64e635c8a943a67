/**
 * Run metadata and events from FIT's summary messages: timer events → pauses, lap and session messages
 * → laps and legs, file_id / device_info → device.
 *
 * Timer events differ by device: Garmin pauses with `stop_all`, Suunto with `stop`, and the Fenix 2
 * writes its timer events after all records, so events are sorted by time before pairing.
 * @module
 */
import { isRunningSport } from '../sport.js';
import { getFitGarminProductName, getFitManufacturerName, getFitSportName, getFitSubSportName } from 'fit-file-parser';
import type { Lap, Leg, RunEvent, RunMeta } from '../sample.js';
import { enumName, num, timeMs } from './values.js';
import type { FitMessage, WarningLog } from './values.js';

export interface SummaryMessages {
  events: FitMessage[];
  laps: FitMessage[];
  sessions: FitMessage[];
  sports: FitMessage[];
  fileIds: FitMessage[];
  deviceInfos: FitMessage[];
}

const STOP_TYPES = new Set(['stop', 'stop_all', 'stop_disable', 'stop_disable_all']);

/** Seconds since t0, rounded to the ms so that sums of FIT's whole-second times stay exact. */
function secondsSince(ms: number, t0: number): number {
  return Math.round(ms - t0) / 1000;
}

/**
 * Pauses from timer events. A stop at or after the last record is the end of the run, not a pause; a
 * stop never followed by a start closes at the last record.
 */
function timerPauses(events: readonly FitMessage[], t0: number, lastT: number): { startT: number; endT: number }[] {
  const timer = events
    .filter((e) => e.event === 'timer' || e.event === 0)
    .map((e) => ({ t: secondsSince(timeMs(e.timestamp), t0), type: enumName(e.event_type) }))
    .filter((e) => !Number.isNaN(e.t))
    .sort((a, b) => a.t - b.t);
  const pauses: { startT: number; endT: number }[] = [];
  let stoppedAt = NaN;
  for (const e of timer) {
    if (e.type !== null && STOP_TYPES.has(e.type)) {
      if (Number.isNaN(stoppedAt)) stoppedAt = e.t;
    } else if (e.type === 'start' && !Number.isNaN(stoppedAt)) {
      if (e.t > stoppedAt && stoppedAt < lastT) pauses.push({ startT: Math.max(0, stoppedAt), endT: Math.min(e.t, lastT) });
      stoppedAt = NaN;
    }
  }
  if (!Number.isNaN(stoppedAt) && stoppedAt < lastT && stoppedAt >= 0) {
    // A stop the watch never resumed from, though records continue: closed at the last record.
    pauses.push({ startT: stoppedAt, endT: lastT });
  }
  return pauses.filter((p) => p.endT > p.startT);
}

function sportOf(m: FitMessage | undefined): { sport: string | null; subSport: string | null } {
  if (!m) return { sport: null, subSport: null };
  return {
    sport: enumName(m.sport, getFitSportName),
    subSport: enumName(m.sub_sport, getFitSubSportName),
  };
}

function isRunning(sport: string | null): boolean {
  return sport !== null && isRunningSport(sport);
}

function device(msgs: SummaryMessages): { manufacturer: string | null; product: string | null } {
  const creator =
    msgs.deviceInfos.find((d) => d.device_index === 'creator' || d.device_index === 0) ?? msgs.fileIds[0];
  const source = msgs.fileIds[0] ?? creator;
  if (!source) return { manufacturer: null, product: null };
  const manufacturer = enumName(source.manufacturer, getFitManufacturerName);
  const productName = typeof source.product_name === 'string' && source.product_name !== '' ? source.product_name : null;
  let product = productName;
  if (product === null && manufacturer === 'garmin') product = enumName(source.garmin_product ?? source.product, getFitGarminProductName);
  if (product === null) product = enumName(source.product);
  return { manufacturer, product };
}

export interface MetaResult {
  meta: RunMeta;
  events: RunEvent[];
}

export function buildMeta(
  msgs: SummaryMessages,
  t0: number,
  lastT: number,
  lastDistance: number,
  warnings: WarningLog,
): MetaResult {
  const pauses = timerPauses(msgs.events, t0, lastT);
  const paused = pauses.reduce((s, p) => s + (p.endT - p.startT), 0);

  const laps: Lap[] = [];
  for (const lap of msgs.laps) {
    const start = timeMs(lap.start_time);
    const elapsed = num(lap.total_elapsed_time);
    let end = timeMs(lap.timestamp);
    if (!Number.isNaN(start) && !Number.isNaN(elapsed)) end = start + elapsed * 1000;
    if (Number.isNaN(start) || Number.isNaN(end)) continue;
    const distance = num(lap.total_distance);
    laps.push({ startT: secondsSince(start, t0), endT: secondsSince(end, t0), distanceM: Number.isNaN(distance) ? null : distance });
  }
  laps.sort((a, b) => a.startT - b.startT);

  const legs: Leg[] = [];
  for (const s of msgs.sessions) {
    const start = timeMs(s.start_time);
    const elapsed = num(s.total_elapsed_time);
    if (Number.isNaN(start)) continue;
    const { sport, subSport } = sportOf(s);
    const startT = secondsSince(start, t0);
    const endT = Number.isNaN(elapsed) ? secondsSince(timeMs(s.timestamp), t0) : startT + elapsed;
    legs.push({ sport, subSport, startT, endT: Number.isNaN(endT) ? lastT : endT, running: isRunning(sport) });
  }
  legs.sort((a, b) => a.startT - b.startT);
  if (legs.length === 0) {
    // No session message (a file cut short, some recorders): the sport message or a lap says what it was.
    let { sport, subSport } = sportOf(msgs.sports[0]);
    if (sport === null) ({ sport, subSport } = sportOf(msgs.laps.find((l) => l.sport !== undefined)));
    if (sport === null) warnings.add('unknown_sport', 'the file does not say its sport; analysed as a run');
    legs.push({ sport, subSport, startT: 0, endT: lastT, running: sport === null || isRunning(sport) });
  }

  const distinctSports = new Set(legs.map((l) => l.sport).filter((s) => s !== 'transition'));
  const multisport = legs.length > 1 && distinctSports.size > 1;
  const sessionDistance = msgs.sessions.reduce((sum, s) => sum + (Number.isNaN(num(s.total_distance)) ? 0 : num(s.total_distance)), 0);
  const distanceM = sessionDistance > 0 ? sessionDistance : Number.isNaN(lastDistance) ? null : lastDistance;

  const events: RunEvent[] = [];
  for (const p of pauses) {
    events.push({ t: p.startT, type: 'pause' });
    events.push({ t: p.endT, type: 'resume' });
  }
  // A lap event marks a lap boundary the runner crossed: every lap end except the run's own end.
  for (const lap of laps) if (lap.endT < lastT) events.push({ t: lap.endT, type: 'lap' });
  events.sort((a, b) => a.t - b.t);

  return {
    meta: {
      sport: multisport ? 'multisport' : (legs[0]?.sport ?? null),
      subSport: multisport ? null : (legs[0]?.subSport ?? null),
      ...device(msgs),
      startTime: Number.isNaN(t0) ? null : new Date(t0).toISOString(),
      elapsedS: lastT,
      timerS: Math.max(0, lastT - paused),
      distanceM,
      laps,
      pauses,
      legs,
    },
    events,
  };
}
