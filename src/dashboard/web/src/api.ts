/**
 * The dashboard's one door to the REST API. Every failure becomes an ApiError with the server's stable code
 * and one-line message (or a code of our own for network trouble), so pages only ever show a sentence.
 */
import type { Conditions, Profile, Report, SessionKind } from '../../../../alerts/types.js';
import type { Leg, RunEvent } from '../../../../ingest/sample.js';
import type { AthleteJson, CrampJson, NewCrampJson, RunJson, RunPageSummaryJson, SplitJson, UploadJson } from '../../../wire/schemas.js';
import { concatSeries, toRunSummary, toSampleSeries, type RunSummary, type SampleSeries } from './shapes.js';
import type { AthleteModel } from '../../../athlete/model.js';
import type { ValueSource } from '../../../athlete/profile-merge.js';
import type { ReanalyzeJob } from '../../../athlete/reanalysis.js';

export { peakRisk, type RunSummary, type SampleSeries } from './shapes.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error body's other fields (e.g. a DUPLICATE_RUN's `id`: the run already stored). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Settings the server serves to the page (GET /api/config). */
export interface ServerConfig {
  uploadLimitBytes: number;
  mapTileUrl: string;
  mapAttribution: string;
}

/** One split or lap row of the run summary, and the run page's cards, laps and splits (GET /api/runs/:id): the
 * types of the schemas the server answers with (src/wire/schemas.ts), not a copy of them. */
export type SplitRow = SplitJson;
export type RunPageSummary = RunPageSummaryJson;

const TOKEN_KEY = 'crampguard.token';
/** Raw rows per samples page when reading a whole run: within the server's cap (SAMPLES_MAX_ROWS, whose module
 * brings zod, so it is not imported into the page). */
const SAMPLE_PAGE_ROWS = 10_000;

export const session = {
  token(): string | null {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string): void {
    localStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    localStorage.removeItem(TOKEN_KEY);
  },
};

/** GET /api/athletes/me: the schema's type (src/wire/schemas.ts `AthleteSchema`). */
export type Athlete = AthleteJson;

/**
 * GET /api/runs/:id (src/wire/schemas.ts `RunResponse`), and POST /api/runs (`UploadResponse`): the schemas' types,
 * with the engine's own `Report` where the schema keeps the report open-ended.
 */
export type StoredRun = Omit<RunJson, 'report'> & { report: Report | null };
export type UploadedRun = Omit<UploadJson, 'report'> & { report: Report };

/** A journal entry as the server returns it, and one to record (src/wire/schemas.ts `CrampSchema`, `CrampBody`). */
export type CrampEntry = CrampJson;

/** GET /api/athletes/me/model (src/server/athlete-routes.ts). */
export interface AthleteModelJson {
  model: AthleteModel;
  profile: Profile;
  sources: Record<string, ValueSource>;
}
export type { ReanalyzeJob, ValueSource };
export type NewCramp = NewCrampJson;

function errorFromBody(status: number, body: unknown, fallback: string): ApiError {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (err && typeof err.code === 'string') {
    const { error: _error, ...extra } = body as Record<string, unknown>;
    return new ApiError(status, err.code, typeof err.message === 'string' ? err.message : fallback, extra);
  }
  return new ApiError(status, `HTTP_${status}`, fallback);
}

async function request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = session.token();
  if (auth && token) headers.authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Cannot reach the server. Check your connection and try again.');
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (response.status === 401 && auth && token) {
    // The token was revoked or the store was reset: back to sign-in rather than a page of errors.
    session.clear();
    if (!location.hash.startsWith('#/signin')) location.hash = '#/signin';
  }
  if (!response.ok) throw errorFromBody(response.status, parsed, `${method} ${path} failed (${response.status}).`);
  return parsed as T;
}

let configPromise: Promise<ServerConfig> | null = null;

export const api = {
  /** The server's settings for the page, fetched once per page load. */
  config(): Promise<ServerConfig> {
    configPromise ??= request<ServerConfig>('GET', '/api/config', undefined, false).catch((err: unknown) => {
      configPromise = null;
      throw err;
    });
    return configPromise;
  },
  /** A run as a file (the token goes in a header, never a URL, so this fetches and hands back a blob). */
  async exportRun(id: string, format: 'fit' | 'gpx' | 'csv' | 'json'): Promise<{ blob: Blob; filename: string }> {
    const headers: Record<string, string> = {};
    const token = session.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(`/api/runs/${encodeURIComponent(id)}/export?format=${format}`, { headers });
    } catch {
      throw new ApiError(0, 'NETWORK', 'Cannot reach the server. Check your connection and try again.');
    }
    if (!response.ok) {
      let body: unknown = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      throw errorFromBody(response.status, body, `Export failed (${response.status}).`);
    }
    const filename = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `run.${format}`;
    return { blob: await response.blob(), filename };
  },
  createAthlete(name: string, profile?: Profile): Promise<{ id: string; token: string }> {
    return request('POST', '/api/athletes', { name, ...(profile ? { profile } : {}) }, false);
  },
  me(): Promise<Athlete> {
    return request('GET', '/api/athletes/me');
  },
  updateProfile(profile: Profile): Promise<Athlete> {
    return request('PUT', '/api/athletes/me', { profile });
  },
  async listRuns(status?: 'live' | 'ended'): Promise<RunSummary[]> {
    return (await api.listRunsPage({ ...(status ? { status } : {}), limit: 200 })).runs;
  },
  /** One page, newest first; `next` is the cursor for the older ones (null at the end). */
  async listRunsPage(opts: { status?: 'live' | 'ended'; limit?: number; before?: string }): Promise<{ runs: RunSummary[]; next: string | null }> {
    const params = new URLSearchParams({ limit: String(opts.limit ?? 50) });
    if (opts.status) params.set('status', opts.status);
    if (opts.before) params.set('before', opts.before);
    const body = await request<{ runs: Record<string, unknown>[]; next?: string | null }>('GET', `/api/runs?${params}`);
    return { runs: body.runs.map(toRunSummary), next: body.next ?? null };
  },
  getRun(id: string): Promise<StoredRun> {
    return request('GET', `/api/runs/${encodeURIComponent(id)}`);
  },
  async getSamples(id: string, maxPoints?: number): Promise<SampleSeries> {
    const query = maxPoints ? `?maxPoints=${maxPoints}` : '';
    return toSampleSeries(await request<unknown>('GET', `/api/runs/${encodeURIComponent(id)}/samples${query}`));
  },
  /** Every stored row, never downsampled (what a replay plays): the raw pages of the samples endpoint, in order. */
  async getAllSamples(id: string): Promise<SampleSeries> {
    const pages: unknown[] = [];
    let from: number | null = null;
    do {
      const query = new URLSearchParams({ limit: String(SAMPLE_PAGE_ROWS), ...(from === null ? {} : { from: String(from) }) });
      const page: { next?: number | null } = await request('GET', `/api/runs/${encodeURIComponent(id)}/samples?${query}`);
      pages.push(page);
      from = page.next ?? null;
    } while (from !== null);
    return concatSeries(pages.map(toSampleSeries));
  },
  deleteRun(id: string): Promise<unknown> {
    return request('DELETE', `/api/runs/${encodeURIComponent(id)}`);
  },
  async listCramps(): Promise<CrampEntry[]> {
    const body = await request<{ cramps: CrampEntry[] }>('GET', '/api/cramps?limit=200');
    return body.cramps;
  },
  addCramp(entry: NewCramp): Promise<CrampEntry> {
    return request('POST', '/api/cramps', entry);
  },
  /** The model learned from the athlete's runs, the profile the engine gets, and where each value comes from. */
  athleteModel(): Promise<AthleteModelJson> {
    return request('GET', '/api/athletes/me/model');
  },
  /** Starts (or joins) the re-analysis of every run with the current profile and model. */
  reanalyze(): Promise<ReanalyzeJob> {
    return request('POST', '/api/reanalyze');
  },
  reanalyzeStatus(id: string): Promise<ReanalyzeJob> {
    return request('GET', `/api/reanalyze/${encodeURIComponent(id)}`);
  },

  /** Upload a FIT file with progress (fetch cannot report upload progress; XHR can). */
  uploadRun(
    file: Blob,
    conditions: { temp?: number; humidity?: number },
    onProgress: (fraction: number) => void,
  ): Promise<UploadedRun> {
    const params = new URLSearchParams();
    if (conditions.temp !== undefined) params.set('temp', String(conditions.temp));
    if (conditions.humidity !== undefined) params.set('humidity', String(conditions.humidity));
    const query = params.size > 0 ? `?${params}` : '';
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/api/runs${query}`);
      const token = session.token();
      if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.setRequestHeader('accept', 'application/json');
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
      xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'The upload was interrupted. Try again.'));
      xhr.onload = () => {
        let body: unknown = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = null;
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body as UploadedRun);
        else reject(errorFromBody(xhr.status, body, `Upload failed (${xhr.status}).`));
      };
      xhr.send(file);
    });
  },
};
