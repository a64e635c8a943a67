/**
 * Re-analysis jobs: after the model or the profile changed, every ended run of the athlete is analysed again
 * with the profile as it is now (typed > learned > default, the journal's cramps except the run's own), and its
 * report replaced; the report records the model it used (`athleteModel`). Runs stored before summaries existed
 * (or with an older summary version) get their row first, so the model the job uses covers them.
 *
 * In the background: one run at a time, the analysis in the worker pool, a macrotask turn between runs, so the
 * event loop is never held for long. Jobs live in this process's memory (one running per athlete; the latest
 * {@link KEEP_JOBS} kept for their status); a restart forgets them, and the runs already done stay done.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ReanalyzeJob } from '../athlete/reanalysis.js';
import { storedRunToNormalized } from '../athlete/stored-run.js';
import { SUMMARY_VERSION, summarizeRun } from '../athlete/summary.js';
import type { RunSummary, Store } from '../store/types.js';
import type { Analyzer } from './analyzer.js';
import { stampReport, type AthleteService, type ServerEngineOptions } from './athlete.js';

export type { ReanalyzeJob };

const KEEP_JOBS = 100;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Reanalyzer {
  private readonly jobs = new Map<string, ReanalyzeJob & { athleteId: string }>();

  constructor(
    private readonly store: Store,
    private readonly analyzer: Pick<Analyzer, 'analyzeRun'>,
    private readonly athletes: AthleteService,
    private readonly log?: Logger,
  ) {}

  /** Starts a job for the athlete, or returns the one already running. */
  start(athleteId: string): ReanalyzeJob {
    for (const job of this.jobs.values()) if (job.athleteId === athleteId && job.status === 'running') return this.view(job);
    const job = { id: randomUUID(), athleteId, status: 'running' as const, total: 0, done: 0, failed: 0, model: null, startedAt: new Date().toISOString(), finishedAt: null, error: null };
    this.jobs.set(job.id, job);
    while (this.jobs.size > KEEP_JOBS) this.jobs.delete(this.jobs.keys().next().value!);
    void this.run(job);
    return this.view(job);
  }

  /** The job's status; null for an unknown id or another athlete's job. */
  get(athleteId: string, id: string): ReanalyzeJob | null {
    const job = this.jobs.get(id);
    return job && job.athleteId === athleteId ? this.view(job) : null;
  }

  private view(job: ReanalyzeJob & { athleteId: string }): ReanalyzeJob {
    const { athleteId: _, ...rest } = job;
    return { ...rest, model: rest.model ? { ...rest.model } : null };
  }

  private async endedRuns(athleteId: string): Promise<RunSummary[]> {
    const out: RunSummary[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await this.store.listRuns(athleteId, { limit: 200, status: 'ended', ...(before ? { before } : {}) });
      out.push(...page.items);
      if (!page.nextCursor) return out;
      before = page.nextCursor;
    }
  }

  private async run(job: ReanalyzeJob & { athleteId: string; status: ReanalyzeJob['status'] }): Promise<void> {
    const { store, analyzer, athletes } = this;
    const athleteId = job.athleteId;
    try {
      const runs = await this.endedRuns(athleteId);
      job.total = runs.length;
      // Summary rows first, for runs without a current one: the model must cover every run.
      const have = new Map((await store.listRunSummaries(athleteId)).map((s) => [s.runId, s.version]));
      for (const r of runs) {
        if (have.get(r.id) === SUMMARY_VERSION) continue;
        const [record, cols, events] = await Promise.all([store.getRun(athleteId, r.id), store.readSamples(athleteId, r.id), store.listEvents(athleteId, r.id)]);
        if (record && cols && events) await store.saveRunSummary(athleteId, r.id, summarizeRun(storedRunToNormalized(record, cols, events.map((e) => e.event))));
        await nextTurn();
      }
      const athlete = await store.getAthlete(athleteId);
      if (!athlete) throw new Error('the athlete no longer exists');
      for (const r of runs) {
        try {
          const [record, cols, events] = await Promise.all([store.getRun(athleteId, r.id), store.readSamples(athleteId, r.id), store.listEvents(athleteId, r.id)]);
          if (record && cols && events) {
            const { options, model } = await athletes.engineOptions(athleteId, athlete.profile, r.id);
            job.model = { version: model.version, key: model.key, runs: model.runs };
            const stored = (record.options ?? {}) as ServerEngineOptions;
            const full: ServerEngineOptions = {
              ...options,
              ...(stored.conditions ? { conditions: stored.conditions } : {}),
              ...(stored.sessionKind ? { sessionKind: stored.sessionKind } : {}),
            };
            const report = await analyzer.analyzeRun(storedRunToNormalized(record, cols, events.map((e) => e.event)), full);
            await store.setReport(athleteId, r.id, stampReport(report, full));
          }
        } catch (err) {
          job.failed++;
          this.log?.warn({ err, runId: r.id }, 're-analysis of a run failed; its report is kept');
        }
        job.done++;
        await nextTurn();
      }
      job.status = 'done';
    } catch (err) {
      job.status = 'failed';
      job.error = err instanceof Error ? err.message.split('\n', 1)[0]! : String(err);
      this.log?.warn({ err, athleteId }, 're-analysis job failed');
    } finally {
      job.finishedAt = new Date().toISOString();
    }
  }
}
