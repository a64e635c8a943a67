/**
 * The one engine: live runs, uploaded files and replays all go through `push` / `event`.
 * Samples are averaged into ticks of run time (tick index = floor(t / tickS)); a tick closes when the first sample
 * of a later tick arrives, and the detectors, the risk gauge and the prompt policy step once per closed tick.
 * Only the sequence of samples and events matters — never how they were batched, never the wall clock — so the
 * same run gives the same prompts at the same `t` live, from a file, or after a snapshot/restore.
 * Gaps up to `pauseGapS` are filled with the last tick's values (smart recording writes every 1–7 s); longer gaps
 * are pauses. A sample whose `t` is not after the previous one is ignored (duplicates after a reconnect).
 * Per sample: O(1), no allocation. State: a few KB of numbers and rings, whatever the run's length.
 * @module
 */
import { runFeed } from '../ingest/feed.js';
import { isRunningSport, sportLabel } from '../ingest/sport.js';
import { type Channel, type NormalizedRun, type Sample, CHANNELS } from '../ingest/sample.js';
import { resolveConfig, type EngineConfig } from './config.js';
import { F, RISK_FACTORS, type EngineCtx, type Shared, type Signal, type Tick } from './detector.js';
import { personalThresholds, resolveLimits, type Limits, type PersonalThresholds } from './journal.js';
import { computeMetrics } from './metrics.js';
import { createPolicyState, decide, policyTables, recordFired, type Decision, type PolicyState, type PolicyTables } from './policy.js';
import { resolveProfile, type ResolvedProfile } from './profile.js';
import { CAUSES, causeIndex, DETECTORS } from './registry.js';
import { createRing, packRingSlots, ringPush, type Ring } from './ring.js';
import { createFactorSlots, fillTopFactors, riskScore, riskWeights } from './risk.js';
import { decodeState, encodeState } from './snapshot.js';
import { gradeAdjust } from './physiology.js';
import type {
  Alert,
  AlertCause,
  CrampContext,
  DetectorStatus,
  Engine,
  EngineOptions,
  EngineSink,
  EngineSnapshot,
  FluidPoint,
  Report,
  RiskPoint,
  RunEvent,
} from './types.js';
import { ALERT_KINDS } from './types.js';

/**
 * 3: ring slots are float32 ($f32b). A version-2 snapshot (float64 slots, the same state otherwise) still restores
 * and goes on; a process that only knows 2 refuses a 3 and rebuilds that run from its samples.
 */
export const SNAPSHOT_VERSION = 3;
const RESTORABLE_VERSIONS: ReadonlySet<unknown> = new Set([2, SNAPSHOT_VERSION]);

/** The reported cramp's place among the causes (it is fired by the event, not by the policy). */
const REPORTED_CRAMP = causeIndex('cramp_reported');

/** Samples accumulated in the open tick. */
interface TickAcc {
  hrSum: number;
  hrN: number;
  cadSum: number;
  cadSq: number;
  cadN: number;
  speedSum: number;
  speedN: number;
  respSum: number;
  respN: number;
  tempSum: number;
  tempN: number;
  alt: number;
  dist: number;
}

interface EngineState {
  started: boolean;
  lastT: number;
  /** Open tick index (-1 before the first sample). */
  k: number;
  acc: TickAcc;
  prevDist: number;
  prevDistT: number;
  pausedByEvent: boolean;
  resumePending: boolean;
  sinceResumeS: number;
  closedTicks: number;
  tick: Tick;
  hr1m: Ring;
  speed1m: Ring;
  gas1m: Ring;
  /** Altitude and distance of recent ticks, for grade. */
  gradeAlt: Ring;
  gradeDist: Ring;
  /** Raw per-tick HR of the last ticks: the detectors see their median (spikes shorter than half of it vanish). */
  hrRaw: Ring;
  /** Last HR the detectors saw, and how many ticks in a row raw HR has jumped far above it. */
  hrFiltered: number;
  hrJumpTicks: number;
  /** Altitude over the last `climbWindowS`, for "just climbed" (HR lags a climb). */
  climbAlt: Ring;
  sinceClimbS: number;
  /** |HR − cadence| of the last ticks, for optical cadence lock. */
  lockDiff: Ring;
  /** The last closed tick's HR was read as locked to the cadence. */
  hrLocked: boolean;
  shared: Shared;
  signals: Record<AlertCause, Signal>;
  factors: Float64Array;
  detectors: unknown[];
  policy: PolicyState;
}

function newAcc(): TickAcc {
  return { hrSum: 0, hrN: 0, cadSum: 0, cadSq: 0, cadN: 0, speedSum: 0, speedN: 0, respSum: 0, respN: 0, tempSum: 0, tempN: 0, alt: NaN, dist: NaN };
}

function newShared(): Shared {
  return {
    movingS: 0,
    sens: 1,
    hrrFrac: NaN,
    speed1m: NaN,
    gas1m: NaN,
    aboveThresholdS: 0,
    sweatMl: 0,
    drankMl: 0,
    lastDrinkT: NaN,
    sodiumLossMg: 0,
    sodiumIntakeMg: 0,
    decouplingPct: NaN,
    cadenceChangePct: NaN,
    maxDecouplingPct: NaN,
    risk: 0,
    crampT: -1e9,
    startT: NaN,
    advisedMl: 0,
    advisedTotalMl: 0,
    firstAdviceT: NaN,
    sodiumAdvisedMg: 0,
    sodiumAdvisedTotalMg: 0,
    sweatFromSpeedTicks: 0,
    sweatFromHrTicks: 0,
    structured: 0,
    surges: 0,
  };
}

function newTick(): Tick {
  return {
    k: -1, t: 0, dt: 0, moving: false, running: false, paused: false, sinceResumeS: 1e9, hr: NaN, hrOk: false,
    speed: NaN, gas: NaN, grade: NaN, cadence: NaN, cadenceSd: NaN, resp: NaN, airTempC: NaN, sinceClimbS: 1e9,
  };
}

/** Everything derived once from the options (never serialised: rebuilt identically on restore). */
interface Setup {
  options: EngineOptions;
  cfg: EngineConfig;
  profile: ResolvedProfile;
  personal: PersonalThresholds;
  limits: Limits;
  on: boolean[];
  status: DetectorStatus[];
  /** False for a sport the engine does not analyse (cycling, swimming…): no detector runs, no prompt. */
  analysed: boolean;
  /** "not analysed: cycling" when `analysed` is false. */
  notAnalysed: string | null;
}

function setup(options: EngineOptions): Setup {
  const cfg = resolveConfig(options.config);
  const profile = resolveProfile(options.profile, cfg.profile);
  const personal = personalThresholds(profile.crampContexts, cfg.journal);
  const limits = resolveLimits(
    { driftPct: cfg.drift.thresholdPct, cadenceDropPct: cfg.cadence.dropPct, lateShare: cfg.overload.lateShare, sodiumMg: cfg.sodium.thresholdMg },
    personal,
  );
  const channels = new Set<Channel>(options.channels ?? CHANNELS);
  const probe = { cfg, profile, personal, limits, session: options.sessionKind ?? null } as EngineCtx;
  const analysed = isRunningSport(options.sport);
  const notAnalysed = analysed ? null : `not analysed: ${sportLabel(options.sport)}`;
  const on: boolean[] = [];
  const status: DetectorStatus[] = [];
  for (const d of DETECTORS) {
    const missing = d.needs.filter((c) => !channels.has(c));
    const needsOne = d.needsOneOf && !d.needsOneOf.some((c) => channels.has(c)) ? `no ${d.needsOneOf.join(' or ')} in this run` : null;
    const reason = notAnalysed ?? (missing.length ? `no ${missing.join(', ')} in this run` : (needsOne ?? d.off?.(probe, channels) ?? null));
    on.push(reason === null);
    status.push({ id: d.id, on: reason === null, note: reason ?? d.inputs });
  }
  return { options, cfg, profile, personal, limits, on, status, analysed, notAnalysed };
}

function finiteOr(x: number | undefined, fallback: number): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : fallback;
}

class RiskEngine implements Engine {
  private readonly ctx: EngineCtx;
  private readonly decision: Decision = { index: -1, severity: 'info', escalated: false };
  private readonly tables: PolicyTables;
  private readonly weights: Float64Array;
  private readonly crampCareKind: number;
  private readonly point: RiskPoint = { t: 0, score: 0, factors: [], fluidDeficitMl: 0 };
  private readonly slots: string[][];
  private readonly riskEveryTicks: number;
  /** Copied out of the config once: read on every sample. */
  private readonly tickS: number;
  private readonly pauseGapS: number;
  /** Scratch for the HR median (never serialised). */
  private readonly hrSorted: Float64Array;

  constructor(
    private readonly su: Setup,
    private readonly st: EngineState,
    private readonly sink: EngineSink,
  ) {
    this.ctx = ctxFor(su, st);
    this.slots = createFactorSlots(su.cfg.risk.maxFactors);
    this.tables = policyTables(CAUSES, st.signals, su.cfg.policy);
    this.weights = riskWeights(su.cfg.risk);
    this.crampCareKind = ALERT_KINDS.indexOf('cramp_care');
    this.riskEveryTicks = Math.max(1, Math.round(su.cfg.engine.riskEveryS / su.cfg.engine.tickS));
    this.tickS = su.cfg.engine.tickS;
    this.pauseGapS = su.cfg.engine.pauseGapS;
    this.hrSorted = new Float64Array(st.hrRaw.buf.length);
  }

  /** Which detectors ran, and the assumptions behind the profile (for the report). */
  get status(): DetectorStatus[] {
    return this.su.status;
  }
  get shared(): Readonly<Shared> {
    return this.st.shared;
  }
  get setup(): Setup {
    return this.su;
  }

  push(s: Readonly<Sample>): void {
    const st = this.st;
    const t = s.t;
    if (!(t >= 0) || (st.started && !(t > st.lastT))) return;
    const k = Math.floor(t / this.tickS);
    if (!st.started) {
      st.started = true;
      st.k = k;
      st.shared.startT = t;
    } else if (k > st.k) {
      this.closeTick(st.k, true);
      if (t - st.lastT > this.pauseGapS) {
        st.resumePending = true;
      } else {
        for (let j = st.k + 1; j < k; j++) this.closeTick(j, false);
      }
      st.k = k;
    }
    // Speed from distance when the source has none (some footpods and phones).
    let speed = s.speed;
    const dist = s.distance;
    if (dist === dist) {
      if (!(speed === speed) && st.prevDistT === st.prevDistT && t > st.prevDistT) speed = (dist - st.prevDist) / (t - st.prevDistT);
      st.prevDist = dist;
      st.prevDistT = t;
    }
    const a = st.acc;
    const hr = s.hr;
    if (hr === hr) {
      a.hrSum += hr;
      a.hrN++;
    }
    const cad = s.cadence;
    if (cad === cad) {
      a.cadSum += cad;
      a.cadSq += cad * cad;
      a.cadN++;
    }
    if (speed === speed && speed >= 0) {
      a.speedSum += speed;
      a.speedN++;
    }
    const resp = s.respiration;
    if (resp === resp) {
      a.respSum += resp;
      a.respN++;
    }
    const temp = s.temperature;
    if (temp === temp) {
      a.tempSum += temp;
      a.tempN++;
    }
    if (s.altitude === s.altitude) a.alt = s.altitude;
    if (dist === dist) a.dist = dist;
    st.lastT = t;
  }

  event(e: RunEvent): void {
    const st = this.st;
    const sh = st.shared;
    if (!(e.t >= 0)) return;
    switch (e.type) {
      case 'drink':
        if (e.ml > 0) {
          sh.drankMl += e.ml;
          sh.lastDrinkT = e.t;
          // A logged drink takes the place of advice already counted as offered.
          sh.advisedMl = sh.advisedMl > e.ml ? sh.advisedMl - e.ml : 0;
        }
        break;
      case 'electrolyte':
        if (e.sodiumMg > 0) this.tookSodium(e.sodiumMg);
        break;
      case 'gel':
        if (e.sodiumMg !== undefined && e.sodiumMg > 0) this.tookSodium(e.sodiumMg);
        break;
      case 'pause':
        st.pausedByEvent = true;
        break;
      case 'resume':
        if (st.pausedByEvent) st.resumePending = true;
        st.pausedByEvent = false;
        break;
      case 'cramp':
        this.cramp(e.t, e.muscle, e.severity);
        break;
      case 'lap':
        break;
    }
  }

  private tookSodium(mg: number): void {
    const sh = this.st.shared;
    sh.sodiumIntakeMg += mg;
    sh.sodiumAdvisedMg = sh.sodiumAdvisedMg > mg ? sh.sodiumAdvisedMg - mg : 0;
  }

  snapshot(): EngineSnapshot {
    return {
      version: SNAPSHOT_VERSION,
      options: encodeState(this.su.options),
      state: encodeState(this.st),
    };
  }

  /** Closes the open tick: the end of a file, or of a live run (its `end`). */
  finish(): void {
    if (this.st.started) {
      this.closeTick(this.st.k, true);
      this.st.k++;
      this.st.acc = newAcc();
    }
  }

  private cramp(t: number, muscle: string, severity: number): void {
    const st = this.st;
    const sh = st.shared;
    const tick = st.tick;
    const context: CrampContext = { t, muscle: typeof muscle === 'string' && muscle ? muscle : 'unspecified' };
    if (Number.isFinite(severity)) context.severity = severity;
    context.shareOfUsualLongRun = Math.round((1000 * sh.movingS) / this.su.profile.usualLongRunS) / 1000;
    if (sh.decouplingPct === sh.decouplingPct) context.decouplingPct = Math.round(10 * sh.decouplingPct) / 10;
    if (sh.cadenceChangePct === sh.cadenceChangePct) context.cadenceChangePct = Math.round(10 * sh.cadenceChangePct) / 10;
    context.fluidDeficitMl = Math.round(sh.sweatMl - sh.drankMl);
    context.sodiumDeficitMg = Math.round(sh.sodiumLossMg - sh.sodiumIntakeMg);
    if (tick.airTempC === tick.airTempC) context.temperatureC = tick.airTempC;
    if (sh.hrrFrac === sh.hrrFrac) context.intensity = Math.round(100 * sh.hrrFrac) / 100;
    this.sink.cramp?.(context);
    const repeat = t - st.policy.kindLastT[this.crampCareKind]! < this.su.cfg.engine.tickS * 12;
    sh.crampT = t;
    if (repeat) return;
    this.tables.signals[REPORTED_CRAMP]!.value = severity;
    this.fire(REPORTED_CRAMP, t, 'urgent', false, context.muscle ?? 'muscle');
  }

  private fire(index: number, t: number, severity: Alert['severity'], escalated: boolean, muscle: string): void {
    const spec = CAUSES[index]!;
    const sig = this.tables.signals[index]!;
    const sh = this.st.shared;
    const { message, why } = spec.words({ sig, escalated, profile: this.su.profile, shared: sh, muscle });
    recordFired(this.st.policy, this.tables, index, sh, t);
    const alert: Alert = { id: `${spec.cause}-${t}`, t, kind: spec.kind, cause: spec.cause, message, why, severity };
    spec.fired?.(alert, sig, sh, t);
    this.sink.alert(alert);
  }

  /**
   * Artefact rejection before any detector sees HR: a tick far above the last trusted HR (a wrist spike) is left
   * out unless it lasts `hrJumpAcceptS`; the detectors get the median of the last `hrMedianS` of ticks.
   */
  private filterHr(tick: Tick): void {
    const st = this.st;
    const ec = this.su.cfg.engine;
    const raw = tick.hr;
    let x = raw;
    if (x === x && st.hrFiltered === st.hrFiltered && x - st.hrFiltered > ec.hrJumpBpm) {
      st.hrJumpTicks++;
      if (st.hrJumpTicks * ec.tickS < ec.hrJumpAcceptS) x = NaN;
    } else {
      st.hrJumpTicks = 0;
    }
    const r = st.hrRaw;
    r.next = x;
    ringPush(r);
    const buf = r.buf;
    const sorted = this.hrSorted;
    let n = 0;
    for (let j = 0; j < buf.length; j++) {
      const v = buf[j]!;
      if (!(v === v)) continue;
      let m = n++;
      while (m > 0 && sorted[m - 1]! > v) {
        sorted[m] = sorted[m - 1]!;
        m--;
      }
      sorted[m] = v;
    }
    // Fields, not a return value: a double returned from a call V8 does not inline is boxed (see ring.ts).
    if (n === 0 || !(raw === raw)) {
      tick.hr = NaN;
      return;
    }
    st.hrFiltered = n % 2 === 1 ? sorted[(n - 1) >> 1]! : 0.5 * (sorted[n / 2 - 1]! + sorted[n / 2]!);
    tick.hr = st.hrFiltered;
  }

  /**
   * Optical cadence lock, judged on the raw tick before any detector sees it: HR at the cadence (within twice
   * `cadenceLockBpm`) that either has followed the cadence on average over `cadenceLockS`, or has just moved onto
   * it from a trusted HR well away from it. A runner whose true HR merely sits near their cadence passes.
   */
  private lockCheck(tick: Tick): void {
    const st = this.st;
    const ec = this.su.cfg.engine;
    const hr = tick.hr;
    const cad = tick.cadence;
    const lock = st.lockDiff;
    lock.next = NaN;
    if (hr === hr && cad === cad) lock.next = Math.abs(hr - cad);
    ringPush(lock);
    const atCadence = Math.abs(hr - cad) <= 2 * ec.cadenceLockBpm;
    const followed = lock.validShare >= 0.5 && lock.mean <= ec.cadenceLockBpm;
    const jumpedOnto = st.hrFiltered === st.hrFiltered && Math.abs(st.hrFiltered - cad) > 10;
    st.hrLocked = atCadence && (followed || jumpedOnto);
  }

  /** Grade over the shortest recent stretch of at least `gradeWindowS` and `minGradeDistanceM` (slow climbs too). */
  private gradeOf(tick: Tick, a: TickAcc): void {
    const st = this.st;
    const ec = this.su.cfg.engine;
    const alt = a.alt;
    const dist = a.dist;
    tick.grade = NaN;
    if (!(alt === alt && dist === dist)) return;
    const ga = st.gradeAlt.buf;
    const gd = st.gradeDist.buf;
    const cap = ga.length;
    const minBack = Math.max(1, Math.round(ec.gradeWindowS / ec.tickS));
    for (let back = minBack; back < cap; back++) {
      const j = (st.gradeAlt.i - 1 - back + 2 * cap) % cap;
      const dd = dist - gd[j]!;
      if (dd >= ec.minGradeDistanceM) {
        const g = (alt - ga[j]!) / dd;
        if (g === g) tick.grade = g > 0.45 ? 0.45 : g < -0.45 ? -0.45 : g;
        return;
      }
    }
  }

  private closeTick(k: number, fromAcc: boolean): void {
    const st = this.st;
    const su = this.su;
    const ec = su.cfg.engine;
    const tick = st.tick;
    const a = st.acc;
    if (fromAcc) {
      tick.speed = a.speedN > 0 ? a.speedSum / a.speedN : NaN;
      if (a.cadN > 0) {
        const m = a.cadSum / a.cadN;
        tick.cadence = m;
        tick.cadenceSd = a.cadN > 1 ? Math.sqrt(Math.max(0, a.cadSq / a.cadN - m * m)) : NaN;
      } else {
        tick.cadence = NaN;
        tick.cadenceSd = NaN;
      }
      tick.resp = a.respN > 0 ? a.respSum / a.respN : NaN;
      tick.hr = NaN;
      if (a.hrN > 0) tick.hr = a.hrSum / a.hrN;
      this.lockCheck(tick);
      if (st.hrLocked) tick.hr = NaN;
      this.filterHr(tick);
      const ctxTemp = this.ctx.conditionsTempC;
      tick.airTempC = ctxTemp === ctxTemp ? ctxTemp : a.tempN > 0 ? a.tempSum / a.tempN : tick.airTempC === tick.airTempC ? tick.airTempC : ec.defaultTempC;
      st.gradeAlt.next = a.alt;
      ringPush(st.gradeAlt);
      st.gradeDist.next = a.dist;
      ringPush(st.gradeDist);
      this.gradeOf(tick, a);
      gradeAdjust(tick, ec);
      // Climbing now: altitude up by `climbGainM` since the oldest slot of the climb window (about to be replaced).
      const ca = st.climbAlt;
      const oldest = ca.buf[ca.i]!;
      if (a.alt - oldest >= ec.climbGainM) st.sinceClimbS = 0;
      ca.next = a.alt;
      ringPush(ca);
      // Reset the accumulator in place (no allocation).
      a.hrSum = a.hrN = a.cadSum = a.cadSq = a.cadN = a.speedSum = a.speedN = a.respSum = a.respN = a.tempSum = a.tempN = 0;
      a.alt = NaN;
      a.dist = NaN;
    }
    tick.k = k;
    tick.dt = ec.tickS;
    tick.t = (k + 1) * ec.tickS;
    tick.paused = st.pausedByEvent;
    const sp = tick.speed;
    tick.moving = !tick.paused && (sp === sp ? sp >= ec.movingSpeedMps : true);
    tick.running = tick.moving && (sp === sp ? sp >= ec.runSpeedMps : true);
    const hr = tick.hr;
    tick.hrOk = hr === hr && !st.hrLocked;
    if (st.resumePending) {
      st.resumePending = false;
      st.sinceResumeS = 0;
    }
    if (tick.moving) st.sinceResumeS += tick.dt;
    tick.sinceResumeS = st.sinceResumeS;
    if (tick.moving) st.sinceClimbS += tick.dt;
    tick.sinceClimbS = st.sinceClimbS;
    const sh = st.shared;
    if (tick.moving) sh.movingS += tick.dt;
    st.hr1m.next = NaN;
    if (tick.hrOk && tick.moving) st.hr1m.next = hr;
    ringPush(st.hr1m);
    st.speed1m.next = NaN;
    if (sp === sp) st.speed1m.next = tick.moving ? sp : 0;
    ringPush(st.speed1m);
    st.gas1m.next = NaN;
    if (sp === sp) st.gas1m.next = tick.moving ? tick.gas : 0;
    ringPush(st.gas1m);
    const p = su.profile;
    sh.hrrFrac = (st.hr1m.mean - p.hrRest) / (p.hrMax - p.hrRest);
    sh.speed1m = st.speed1m.mean;
    sh.gas1m = st.gas1m.mean;

    const dets = DETECTORS;
    const ctx = this.ctx;
    if (!su.analysed) {
      st.closedTicks++;
      return;
    }
    for (let i = 0; i < dets.length; i++) {
      if (su.on[i]) dets[i]!.step(st.detectors[i], tick, ctx);
    }
    sh.risk = riskScore(st.factors, this.weights);
    st.closedTicks++;
    if ((k + 1) % this.riskEveryTicks === 0) {
      const point = this.point;
      point.t = tick.t;
      point.score = sh.risk;
      point.fluidDeficitMl = Math.round(sh.sweatMl - sh.drankMl);
      fillTopFactors(st.factors, this.weights, su.cfg.risk, point, this.slots);
      this.sink.risk(
        this.sink.reuseRiskPoint === true
          ? point
          : { t: point.t, score: point.score, factors: point.factors.slice(), fluidDeficitMl: point.fluidDeficitMl },
      );
    }
    const d = this.decision;
    decide(st.policy, this.tables, sh, tick, su.cfg.policy, d);
    if (d.index >= 0) this.fire(d.index, tick.t, d.severity, d.escalated, '');
  }
}

function initialState(su: Setup, ctxProbe: (st: EngineState) => EngineCtx): EngineState {
  const signals = {} as Record<AlertCause, Signal>;
  for (const c of CAUSES) signals[c.cause] = { active: false, value: NaN, a: NaN, b: NaN };
  const factors = new Float64Array(RISK_FACTORS.length);
  factors[F.cramp_history] = su.profile.priorCramps > 0 ? 1 : 0;
  const ec = su.cfg.engine;
  const gradeTicks = Math.max(2, Math.round(ec.gradeMaxWindowS / ec.tickS) + 1);
  const st: EngineState = {
    started: false,
    lastT: NaN,
    k: -1,
    acc: newAcc(),
    prevDist: NaN,
    prevDistT: NaN,
    pausedByEvent: false,
    resumePending: false,
    sinceResumeS: 1e9,
    closedTicks: 0,
    tick: newTick(),
    hr1m: createRing(60 / su.cfg.engine.tickS),
    speed1m: createRing(60 / su.cfg.engine.tickS),
    gas1m: createRing(60 / su.cfg.engine.tickS),
    gradeAlt: createRing(gradeTicks),
    gradeDist: createRing(gradeTicks),
    hrRaw: createRing(Math.max(1, Math.round(ec.hrMedianS / ec.tickS))),
    hrFiltered: NaN,
    hrJumpTicks: 0,
    climbAlt: createRing(Math.max(1, Math.round(ec.climbWindowS / ec.tickS))),
    sinceClimbS: 1e9,
    lockDiff: createRing(Math.max(1, Math.round(ec.cadenceLockS / ec.tickS))),
    hrLocked: false,
    shared: newShared(),
    signals,
    factors,
    detectors: [],
    policy: createPolicyState(CAUSES.length),
  };
  const ctx = ctxProbe(st);
  st.detectors = DETECTORS.map((d, i) => (su.on[i] ? d.init(ctx) : null));
  packRingSlots(st);
  return st;
}

function ctxFor(su: Setup, st: EngineState): EngineCtx {
  return {
    cfg: su.cfg,
    profile: su.profile,
    personal: su.personal,
    limits: su.limits,
    session: su.options.sessionKind ?? null,
    conditionsTempC: finiteOr(su.options.conditions?.tempC, NaN),
    conditionsHumidity: finiteOr(su.options.conditions?.humidity, NaN),
    shared: st.shared,
    signals: st.signals,
    factors: st.factors,
  };
}

/** The engine of one run. The sink receives alerts and risk points synchronously inside `push`/`event`. */
export function createEngine(options: EngineOptions, sink: EngineSink): Engine {
  const su = setup(options);
  return new RiskEngine(su, initialState(su, (st) => ctxFor(su, st)), sink);
}

/** Continues a run from `engine.snapshot()` (in this or another process) exactly where it was. */
export function restoreEngine(snapshot: EngineSnapshot, sink: EngineSink): Engine {
  if (!snapshot || !RESTORABLE_VERSIONS.has(snapshot.version) || typeof snapshot.state !== 'object' || snapshot.state === null) {
    throw new EngineError('SNAPSHOT_INVALID', `unsupported engine snapshot (version ${String(snapshot?.version)})`);
  }
  const options = decodeState(snapshot.options ?? {}) as EngineOptions;
  const su = setup(options);
  const st = decodeState(snapshot.state) as EngineState;
  if (!Array.isArray(st.detectors) || st.detectors.length !== DETECTORS.length) {
    throw new EngineError('SNAPSHOT_INVALID', 'engine snapshot does not match this engine version');
  }
  packRingSlots(st);
  return new RiskEngine(su, st, sink);
}

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: 'SNAPSHOT_INVALID',
    message: string,
  ) {
    super(message);
  }
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/**
 * The whole-file path: the same engine fed through the one feed (ingest/feed.ts: running legs only, the ordering
 * rule, the closing tick), plus the post-run metrics. A file with no running leg gets a report that says
 * "not analysed: cycling" and no prompts.
 */
export function analyzeRun(run: NormalizedRun, options: EngineOptions): Report {
  const alerts: Alert[] = [];
  const risk: RiskPoint[] = [];
  const fluid: FluidPoint[] = [];
  const cramps: CrampContext[] = [];
  const sink: EngineSink = {
    alert: (a) => alerts.push(a),
    risk: (p) => {
      risk.push({ t: p.t, score: p.score, factors: p.factors.slice() });
      fluid.push({ t: p.t, deficitMl: p.fluidDeficitMl ?? NaN });
    },
    cramp: (c) => cramps.push(c),
    reuseRiskPoint: true,
  };
  const feed = runFeed(run);
  const engine = createEngine(
    { ...options, channels: options.channels ?? run.channels, sport: options.sport ?? feed.sport },
    sink,
  ) as RiskEngine;
  feed.play(engine);
  engine.finish();
  const su = engine.setup;
  const sh = engine.shared;
  const notes: string[] = [];
  const metrics = computeMetrics(run, feed.inSpan, su.profile, su.cfg, sh, notes);
  const warnings = [...run.warnings];
  if (feed.spans !== null) warnings.push({ code: 'multisport', message: `analysed the ${feed.spans.length} running leg(s) of a multi-sport file` });
  const assumptions = su.analysed
    ? su.profile.notes.concat(
        Number.isFinite(options.conditions?.tempC) ? [] : [run.channels.includes('temperature') ? 'air temperature from the watch sensor (reads warm when worn)' : `air temperature assumed ${su.cfg.engine.defaultTempC} °C`],
        Number.isFinite(options.conditions?.humidity) ? [] : [`humidity assumed ${su.cfg.engine.defaultHumidityPct} %`],
        sweatMethodNote(sh),
      )
    : [];
  return {
    ok: true,
    sport: run.meta.sport,
    analysed: su.analysed,
    ...(su.notAnalysed ? { notAnalysed: su.notAnalysed } : {}),
    startTime: run.meta.startTime,
    durationS: run.meta.elapsedS,
    movingTimeS: run.meta.timerS > 0 ? run.meta.timerS : sh.movingS,
    distanceM: run.meta.distanceM,
    channels: [...run.channels],
    warnings,
    metrics,
    alerts,
    risk,
    fluid,
    detectors: engine.status,
    assumptions,
    personal: su.personal.sentence,
    cramps,
    notes,
    sessionKind: options.sessionKind ?? (sh.surges >= 3 ? 'intervals' : null),
    structured: sh.surges >= 2 ? { surges: sh.surges, note: 'repeated surges and recoveries: read as a structured workout (intervals or fartlek); fatigue prompts held back' } : null,
  };
}

/** Which model the sweat estimate rests on, for the report. */
function sweatMethodNote(sh: Readonly<Shared>): string[] {
  const n = sh.sweatFromSpeedTicks + sh.sweatFromHrTicks;
  if (n === 0) return [];
  const hrPct = Math.round((100 * sh.sweatFromHrTicks) / n);
  if (hrPct === 0) return ['sweat estimated from speed and grade (ACSM, Minetti 2002) and the weather (Gonzalez 2009)'];
  if (hrPct === 100) return ['sweat estimated from heart rate (Keytel 2005; no usable speed) and the weather (Gonzalez 2009)'];
  return [`sweat estimated from speed and grade (ACSM, Minetti 2002) for ${100 - hrPct} % of the run and from heart rate (Keytel 2005) for ${hrPct} %, where speed did not explain the effort`];
}
