/**
 * The dashboard's one door to the REST API. Every failure becomes an ApiError with the server's stable code
 * and one-line message (or a code of our own for network trouble), so pages only ever show a sentence.
 */
import type { Profile, Report } from '../../../../alerts/types.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'crampguard.token';

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

export interface Athlete {
  id: string;
  name: string;
  profile: Profile;
  /** What the engine assumes where the profile is silent, when the server says. */
  defaults?: Partial<Record<keyof Profile, unknown>>;
  [key: string]: unknown;
}

export interface RunSummary {
  id: string;
  startTime: string | null;
  distanceM: number | null;
  durationS: number | null;
  /** null until known: the list endpoint may not carry it, then the page fills it from the run's report. */
  alertCount: number | null;
  peakRisk: number | null;
  status: 'live' | 'ended';
  source: 'upload' | 'live' | null;
}

export interface StoredRun {
  id: string;
  source?: 'upload' | 'live';
  status?: 'live' | 'ended';
  startTime?: string | null;
  /** null while a live run is still going. */
  report: Report | null;
}

/** A run's samples as columns (the chart input). Missing values are null. */
export interface SampleSeries {
  t: number[];
  hr: (number | null)[];
  cadence: (number | null)[];
  speed: (number | null)[];
  [channel: string]: (number | null)[];
}

/** A journal entry as the server returns it (src/wire/schemas.ts `CrampSchema`). */
export interface CrampEntry {
  id: string;
  runId: string | null;
  t: number | null;
  muscle: string;
  severity: number;
  note: string;
  createdAt: string;
  context: Record<string, unknown>;
}

export interface NewCramp {
  id?: string;
  runId?: string;
  t?: number;
  muscle: string;
  severity: number;
  note?: string;
}

function errorFromBody(status: number, body: unknown, fallback: string): ApiError {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (err && typeof err.code === 'string') {
    return new ApiError(status, err.code, typeof err.message === 'string' ? err.message : fallback);
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
  if (!response.ok) throw errorFromBody(response.status, parsed, `${method} ${path} failed (${response.status}).`);
  return parsed as T;
}

export function peakRisk(risk: readonly { score: number }[]): number | null {
  let peak: number | null = null;
  for (const p of risk) if (peak === null || p.score > peak) peak = p.score;
  return peak;
}

function toNumberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The list endpoint's items, whatever extra fields they carry, reduced to what the runs table shows. */
export function toRunSummary(raw: Record<string, unknown>): RunSummary {
  const report = (raw.report ?? null) as Partial<Report> | null;
  const alerts = Array.isArray(report?.alerts) ? report.alerts : null;
  const risk = Array.isArray(report?.risk) ? report.risk : null;
  let peak = toNumberOrNull(raw.peakRisk);
  if (peak === null && risk && risk.length > 0) peak = peakRisk(risk);
  return {
    id: String(raw.id),
    startTime: (raw.startTime as string | null | undefined) ?? report?.startTime ?? null,
    distanceM: toNumberOrNull(raw.distanceM) ?? toNumberOrNull(report?.distanceM),
    durationS: toNumberOrNull(raw.durationS) ?? toNumberOrNull(report?.durationS),
    alertCount: toNumberOrNull(raw.alertCount) ?? alerts?.length ?? null,
    peakRisk: peak,
    status: raw.status === 'live' ? 'live' : 'ended',
    source: raw.source === 'upload' || raw.source === 'live' ? raw.source : null,
  };
}

/** Samples arrive as columns or rows; either way the charts get columns with null for missing. */
export function toSampleSeries(raw: unknown): SampleSeries {
  const body = raw as Record<string, unknown>;
  const cols = (body.columns ?? body.samples ?? body) as Record<string, unknown> | unknown[];
  const out: SampleSeries = { t: [], hr: [], cadence: [], speed: [] };
  const clean = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  if (Array.isArray(cols)) {
    for (const row of cols as Record<string, unknown>[]) {
      const t = clean(row.t);
      if (t === null) continue;
      out.t.push(t);
      for (const key of Object.keys(row)) {
        if (key === 't') continue;
        (out[key] ??= new Array<number | null>(out.t.length - 1).fill(null)).push(clean(row[key]));
      }
      for (const key of Object.keys(out)) if (key !== 't' && out[key]!.length < out.t.length) out[key]!.push(null);
    }
    return out;
  }
  const t = cols.t;
  if (!Array.isArray(t)) return out;
  out.t = t.map((v) => (typeof v === 'number' ? v : Number(v)));
  for (const [key, values] of Object.entries(cols)) {
    if (key === 't' || !Array.isArray(values)) continue;
    out[key] = values.map(clean);
  }
  return out;
}

export const api = {
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
    const body = await request<{ runs: Record<string, unknown>[] }>('GET', `/api/runs?limit=200${status ? `&status=${status}` : ''}`);
    return body.runs.map(toRunSummary);
  },
  getRun(id: string): Promise<StoredRun> {
    return request('GET', `/api/runs/${encodeURIComponent(id)}`);
  },
  async getSamples(id: string, maxPoints?: number): Promise<SampleSeries> {
    const query = maxPoints ? `?maxPoints=${maxPoints}` : '';
    return toSampleSeries(await request<unknown>('GET', `/api/runs/${encodeURIComponent(id)}/samples${query}`));
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

  /** Upload a FIT file with progress (fetch cannot report upload progress; XHR can). */
  uploadRun(
    file: Blob,
    conditions: { temp?: number; humidity?: number },
    onProgress: (fraction: number) => void,
  ): Promise<StoredRun> {
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
        if (xhr.status >= 200 && xhr.status < 300) resolve(body as StoredRun);
        else reject(errorFromBody(xhr.status, body, `Upload failed (${xhr.status}).`));
      };
      xhr.send(file);
    });
  },
};
