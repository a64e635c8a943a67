/**
 * `crampguard replay FILE.fit --url URL --token TOKEN [--speed N] [--json] [--profile P] [--temp C]
 * [--humidity PCT]`: plays a recorded run to a server as a watch would, prints each alert as it arrives
 * (NDJSON with --json) and ends with the report.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { Profile } from '../../alerts/types.js';
import { decodeActivityFile, errorJson } from '../../ingest/activity-file.js';
import { parseCommand } from './args.js';
import { ConditionsSchema, ProfileSchema, SessionKindSchema } from '../wire/schemas.js';
import type { WireAlert } from '../wire/events.js';

const USAGE = `usage: crampguard replay FILE --url URL --token TOKEN [--speed N] [--json]
                         [--profile P] [--temp C] [--humidity PCT] [--session KIND]

  FILE             FIT, GPX or TCX, gzipped or not; - reads stdin
  --url URL        server, e.g. http://localhost:8080; several processes of one service: repeat --url or
                   separate with commas (on a drop the watch moves to the next one and resumes the run)
  --token TOKEN    the athlete's token (or env CRAMPGUARD_TOKEN)
  --speed N        N× real time; 0 = as fast as the server acks (default 0)
  --json           NDJSON: one line per alert, the report last
  --profile P      profile JSON file (or inline JSON) overriding the stored profile for this run
  --temp C         air temperature, °C
  --humidity PCT   relative humidity, %
  --session KIND   easy | long | race | intervals
`;

function fmtTime(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

function fail(json: boolean, code: string, message: string, exit = 2): number {
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  process.stderr.write(`crampguard replay: ${code}: ${message}\n`);
  return exit;
}

/** How long the first contact with each server may take before the replay gives up on it, ms. */
const REACH_TIMEOUT_MS = 5000;

/**
 * Why nothing answers HTTP at `url` (any status will do: the server's /livez, or a 404 from an older one), or null
 * when something does. The watch client retries a lost connection for as long as the run lasts, which is right once
 * a run is under way, but an address where nothing listens should fail at once with a message, not wait in silence.
 * (node:http, not fetch: fetch refuses some ports a server may use.)
 */
function unreachable(url: string): Promise<string | null> {
  return new Promise((resolve) => {
    const target = new URL('/livez', url);
    const req = (target.protocol === 'https:' ? httpsGet : httpGet)(target, { timeout: REACH_TIMEOUT_MS }, (res) => {
      res.destroy();
      resolve(null);
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: `no answer within ${REACH_TIMEOUT_MS / 1000} s` })));
    req.once('error', (err: NodeJS.ErrnoException) => resolve(`nothing answers at ${url} (${err.code ?? err.message})`));
  });
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand('replay', USAGE, argv, {
    url: { type: 'string', multiple: true },
    token: { type: 'string' },
    speed: { type: 'string' },
    json: { type: 'boolean' },
    profile: { type: 'string' },
    temp: { type: 'string' },
    humidity: { type: 'string' },
    session: { type: 'string' },
  });
  if (typeof args === 'number') return args;
  const { values: v, positionals } = args;
  const json = v.json ?? false;
  const file = positionals[0];
  const token = v.token ?? process.env.CRAMPGUARD_TOKEN;
  if (!file || positionals.length > 1) return fail(json, 'USAGE', `give exactly one activity file\n${USAGE}`);
  const urls = (v.url ?? []).flatMap((u) => u.split(',')).map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0) return fail(json, 'USAGE', '--url is required');
  const badUrl = urls.find((u) => !/^https?:\/\//.test(u));
  if (badUrl !== undefined) return fail(json, 'USAGE', `--url must be an http(s) URL: ${badUrl}`);
  if (!token) return fail(json, 'USAGE', '--token is required');
  const speed = v.speed === undefined ? 0 : Number(v.speed);
  if (!Number.isFinite(speed) || speed < 0) return fail(json, 'USAGE', '--speed must be a number >= 0');

  let profile: Profile | undefined;
  if (v.profile !== undefined) {
    let rawProfile: unknown;
    try {
      rawProfile = JSON.parse(existsSync(v.profile) ? readFileSync(v.profile, 'utf8') : v.profile);
    } catch {
      return fail(json, 'BAD_PROFILE', `--profile: not a JSON file or JSON text: ${v.profile}`);
    }
    const parsed = ProfileSchema.safeParse(rawProfile);
    if (!parsed.success) return fail(json, 'BAD_PROFILE', `--profile: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    profile = parsed.data as Profile;
  }
  const conditions = ConditionsSchema.safeParse({
    ...(v.temp !== undefined ? { tempC: Number(v.temp) } : {}),
    ...(v.humidity !== undefined ? { humidity: Number(v.humidity) } : {}),
  });
  if (!conditions.success) return fail(json, 'BAD_CONDITIONS', `--temp/--humidity: ${conditions.error.issues[0]?.message}`);
  const session = v.session === undefined ? undefined : SessionKindSchema.safeParse(v.session);
  if (session && !session.success) return fail(json, 'USAGE', '--session must be easy, long, race or intervals');

  let decoded;
  try {
    decoded = await decodeActivityFile(file);
  } catch (err) {
    const { error } = errorJson(err);
    return fail(json, error.code, error.message, 1);
  }
  const problems = await Promise.all(urls.map(unreachable));
  if (problems.every((p) => p !== null)) return fail(json, 'SERVER_UNREACHABLE', problems.join('; '), 1);

  const printAlert = (a: WireAlert) => {
    if (json) process.stdout.write(`${JSON.stringify({ type: 'alert', ...a })}\n`);
    else process.stdout.write(`${fmtTime(a.t)}  ${a.kind.padEnd(12)} ${a.cause.padEnd(16)} ${a.message}  (${a.why})\n`);
  };
  const { replayRun } = await import('../wire/replay.js');
  try {
    const result = await replayRun(decoded, {
      url: urls.length === 1 ? urls[0]! : urls,
      token,
      speed,
      ...(profile ? { profile } : {}),
      ...(Object.keys(conditions.data).length ? { conditions: conditions.data } : {}),
      ...(session?.success ? { sessionKind: session.data } : {}),
      onAlert: printAlert,
      onRejected: (what, error) => process.stderr.write(`crampguard replay: server refused ${what}: ${error.code}: ${error.message}\n`),
    });
    if (json) process.stdout.write(`${JSON.stringify({ file, id: result.id, ...result.report })}\n`);
    else {
      const r = result.report;
      process.stdout.write(
        `\nrun ${result.id}: ${fmtTime(r.durationS)}, ${r.distanceM === null ? '?' : (r.distanceM / 1000).toFixed(2)} km, ${r.alerts.length} prompts\n`,
      );
    }
    return 0;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return fail(json, e.code ?? 'REPLAY_FAILED', e.message ?? String(err), 1);
  }
}
