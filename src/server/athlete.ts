/**
 * The athlete model on the server: the one place uploads, live runs, the cramp journal and re-analysis get the
 * profile the engine uses (typed > learned > default, src/athlete/profile-merge.ts), the model it came from, and
 * the summary row a stored run adds. The model is folded from the stored summary rows, checked against the store
 * on every use (see `model`): adding a run costs one row fetched and one fold, and a row added or deleted by
 * another process is seen at once. The same stored runs give the same model, and so the same `athleteModel`
 * stamp, to a live start and an upload at the same moment.
 * @module
 */
import type { CrampContext, EngineOptions, Profile, Report } from '../../alerts/types.js';
import type { NormalizedRun } from '../../ingest/sample.js';
import { contextFromReport, runUpToCramp } from '../athlete/cramp-context.js';
import { foldModel, type AthleteModel } from '../athlete/model.js';
import { mergeProfile, modelStamp, type ModelStamp } from '../athlete/profile-merge.js';
import { storedRunToNormalized } from '../athlete/stored-run.js';
import type { Store, StoredRunSummary } from '../store/types.js';
import type { SummaryRow } from '../athlete/model.js';
import type { Analyzer } from './analyzer.js';

/** Engine options as the server stores them with a run: plus the model the profile was merged from. */
export type ServerEngineOptions = EngineOptions & { athleteModel?: ModelStamp };

/** Journal entries read to build the cramp history (the engine keeps the latest 10 contexts). */
const JOURNAL_PAGES = 5;

function isContext(c: unknown): c is CrampContext {
  return typeof c === 'object' && c !== null && Number.isFinite((c as { t?: unknown }).t);
}

/** The report records the model it was analysed with (`athleteModel`: version, key, runs). */
export function stampReport(report: Report, options: ServerEngineOptions): Report {
  if (options.athleteModel) report.athleteModel = options.athleteModel;
  return report;
}

/** Athletes whose parsed rows are kept (least recently used go first). */
const CACHED_ATHLETES = 200;
/** After this many incremental updates the cache is checked row by row once (see `model`). */
const FULL_CHECK_EVERY = 32;

type Entry = { stamp: string; row: SummaryRow };

interface Cached {
  rows: Map<string, Entry>;
  digest: string;
  lastSavedMs: number;
  incremental: number;
  model: AthleteModel;
}

const stampOf = (s: Omit<StoredRunSummary, 'summary'>) => `${s.version}:${s.savedAtMs}`;
const entryOf = (f: StoredRunSummary): Entry => ({ stamp: stampOf(f), row: { runId: f.runId, summary: f.summary } });

export class AthleteService {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: Store,
    private readonly analyzer: Pick<Analyzer, 'analyzeRun'>,
  ) {}

  /**
   * The model the next analysis uses. The store's one-row digest of the athlete's summary rows (count, run
   * counter sum, latest time stored) is read first: unchanged, the cached model is returned; rows added or
   * replaced since (the usual case: an upload or a live run ended) are fetched alone and the count must then
   * match; anything else (a deletion, rows stored by another process with a lagging clock), and every
   * FULL_CHECK_EVERY incremental updates, the rows' stamps are compared one by one and only the rows not
   * parsed yet are fetched.
   */
  async model(athleteId: string): Promise<AthleteModel> {
    const d = await this.store.runSummaryDigest(athleteId);
    const digest = `${d.count}:${d.runSum}:${d.lastSavedMs}`;
    const cached = this.cache.get(athleteId);
    this.cache.delete(athleteId);
    if (cached && cached.digest === digest) {
      this.cache.set(athleteId, cached);
      return cached.model;
    }
    let rows: Map<string, Entry> | null = null;
    let incremental = 0;
    if (cached && cached.incremental < FULL_CHECK_EVERY && d.lastSavedMs >= cached.lastSavedMs) {
      const fresh = await this.store.listRunSummaries(athleteId, { savedSinceMs: cached.lastSavedMs });
      const next = new Map(cached.rows);
      for (const f of fresh) next.set(f.runId, entryOf(f));
      if (next.size === d.count) {
        rows = next;
        incremental = cached.incremental + 1;
      }
    }
    if (rows === null) rows = await this.checkedRows(athleteId, cached?.rows ?? new Map());
    const model = foldModel([...rows.values()].map((e) => e.row), { training: false });
    this.cache.set(athleteId, { rows, digest, lastSavedMs: d.lastSavedMs, incremental, model });
    while (this.cache.size > CACHED_ATHLETES) this.cache.delete(this.cache.keys().next().value!);
    return model;
  }

  /** The athlete's rows, checked one by one against the store's stamps; only those not in `old` are fetched. */
  private async checkedRows(athleteId: string, old: Map<string, Entry>): Promise<Map<string, Entry>> {
    const stamps = await this.store.listRunSummaryStamps(athleteId);
    const missing = stamps.filter((s) => old.get(s.runId)?.stamp !== stampOf(s)).map((s) => s.runId);
    const fetched = missing.length ? await this.store.listRunSummaries(athleteId, { runIds: missing }) : [];
    const fresh = new Map(fetched.map((f) => [f.runId, f]));
    const rows = new Map<string, Entry>();
    for (const s of stamps) {
      const f = fresh.get(s.runId);
      const entry = f ? entryOf(f) : old.get(s.runId);
      if (entry) rows.set(s.runId, entry);
    }
    return rows;
  }

  /** The model with the training view's series (weekly volume, every run's load and decoupling): not cached. */
  async trainingModel(athleteId: string): Promise<AthleteModel> {
    const rows = await this.store.listRunSummaries(athleteId);
    return foldModel(rows.map((r) => ({ runId: r.runId, summary: r.summary })));
  }

  /** The athlete's recorded cramp contexts, oldest first; those of `excludeRunId` left out (its own re-analysis). */
  async crampContexts(athleteId: string, excludeRunId?: string): Promise<CrampContext[]> {
    const out: CrampContext[] = [];
    let before: string | undefined;
    for (let page = 0; page < JOURNAL_PAGES; page++) {
      const { items, nextCursor } = await this.store.listJournal(athleteId, { limit: 200, ...(before ? { before } : {}) });
      for (const e of items) {
        if (excludeRunId !== undefined && e.runId === excludeRunId) continue;
        if (isContext(e.context)) out.push(e.context);
      }
      if (!nextCursor) break;
      before = nextCursor;
    }
    return out.reverse();
  }

  /** Engine options for a new analysis: `typed` merged with the model and the cramp journal, and the model's stamp. */
  async engineOptions(athleteId: string, typed: Profile, excludeRunId?: string): Promise<{ options: ServerEngineOptions; model: AthleteModel }> {
    const [model, cramps] = await Promise.all([this.model(athleteId), this.crampContexts(athleteId, excludeRunId)]);
    return { options: { profile: mergeProfile(typed, model, cramps), athleteModel: modelStamp(model) }, model };
  }

  /**
   * The context of a cramp logged against a stored run at `t` s: the engine run again (in the analysis pool) over
   * the run's samples and events up to `t`, with the athlete's current profile. Null when the run has no samples
   * up to then or cannot be analysed again (the entry is then stored without a context).
   */
  async crampContextFor(athleteId: string, runId: string, t: number, cramp: { muscle: string; severity: number }, typed: Profile): Promise<CrampContext | null> {
    const [record, cols, events] = await Promise.all([
      this.store.getRun(athleteId, runId),
      this.store.readSamples(athleteId, runId),
      this.store.listEvents(athleteId, runId),
    ]);
    if (!record || !cols || !events || cols.length === 0 || cols.t[0]! > t) return null;
    const run = storedRunToNormalized(record, cols, events.map((e) => e.event));
    const { options } = await this.engineOptions(athleteId, typed, runId);
    const stored = (record.options ?? {}) as EngineOptions;
    let report: Report;
    try {
      report = await this.analyzer.analyzeRun(runUpToCramp(run, t, cramp), {
        ...options,
        ...(stored.conditions ? { conditions: stored.conditions } : {}),
        ...(stored.sessionKind ? { sessionKind: stored.sessionKind } : {}),
      });
    } catch {
      // A run the engine cannot analyse again (it was stored, so this is rare): the cramp is still journaled.
      return null;
    }
    return contextFromReport(report, t, cramp);
  }
}
