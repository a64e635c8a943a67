/**
 * The contract of a re-analysis job (POST /api/reanalyze, GET /api/reanalyze/:id; src/server/reanalyze.ts runs
 * them): what the API returns and the dashboard shows.
 * @module
 */

export interface ReanalyzeJob {
  id: string;
  status: 'running' | 'done' | 'failed';
  /** Runs to analyse again. */
  total: number;
  /** Runs done so far (analysed, or skipped because they went meanwhile). */
  done: number;
  /** Runs whose analysis failed (the old report is kept). */
  failed: number;
  /** The model the job analysed with. */
  model: { version: number; key: string; runs: number } | null;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}
