/**
 * GET /api/openapi.json: an OpenAPI 3.1 document generated from the zod schemas the routes validate with
 * (JSON Schema 2020-12 is OpenAPI 3.1's dialect): every operation with its operationId, its own answers and the
 * errors common to its kind ({@link commonErrors}). The page that renders it: src/server/api-docs-page.ts.
 * @module
 */
import { z } from 'zod';
import * as W from '../wire/schemas.js';
import { ExportQuery } from './run-export.js';

type Io = 'input' | 'output';
export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path template (`{id}` for a parameter). */
  path: string;
  operationId: string;
  summary: string;
  auth?: boolean;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Request body media types other than JSON (or JSON without a schema of its own). */
  rawBody?: Record<string, object>;
  /** Path parameters other than `{id}` (a string), by name: their JSON Schema. */
  pathParams?: Record<string, object>;
  /** What the answer is, by status: the successes and the errors particular to this operation. */
  responses: Record<number, { description: string; schema?: z.ZodType; mediaType?: string }>;
  /** Not under /api: no rate limit, no store behind it (or its own answer when the store is down). */
  service?: boolean;
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const E = W.ErrorBodySchema;

/** Every operation the server answers (tests/server/openapi.test.ts checks the routes and the answers against it). */
export const OPERATIONS: Operation[] = [
  { method: 'get', path: '/healthz', operationId: 'getHealth', summary: 'Liveness and store readiness', auth: false, service: true, responses: { 200: { description: 'healthy (status: ok)' }, 503: { description: 'store unavailable or live writes failing (status: degraded, STORE_UNAVAILABLE)' } } },
  { method: 'get', path: '/livez', operationId: 'getLiveness', summary: 'Liveness: the process is up (stays 200 during a database outage)', auth: false, service: true, responses: { 200: { description: 'live' } } },
  { method: 'get', path: '/readyz', operationId: 'getReadiness', summary: 'Readiness: the store answers', auth: false, service: true, responses: { 200: { description: 'ready' }, 503: { description: 'store unavailable (STORE_UNAVAILABLE)', schema: E } } },
  { method: 'get', path: '/metrics', operationId: 'getMetrics', summary: 'Prometheus metrics (text format)', auth: false, service: true, responses: { 200: { description: 'metrics', mediaType: 'text/plain' } } },
  { method: 'get', path: '/api/openapi.json', operationId: 'getOpenApi', summary: 'This document', auth: false, service: true, responses: { 200: { description: 'the OpenAPI 3.1 document' } } },
  { method: 'get', path: '/api/docs', operationId: 'getApiDocs', summary: 'This document as a page', auth: false, service: true, responses: { 200: { description: 'an HTML page', mediaType: 'text/html' } } },
  { method: 'get', path: '/api/docs.js', operationId: 'getApiDocsScript', summary: 'The page\'s script', auth: false, service: true, responses: { 200: { description: 'JavaScript', mediaType: 'text/javascript' } } },
  {
    method: 'post', path: '/api/athletes', operationId: 'createAthlete', summary: 'Create an athlete; the token is shown once', auth: false, body: W.CreateAthleteBody,
    responses: { 201: { description: 'created', schema: W.CreateAthleteResponse }, 403: { description: 'registration closed (REGISTRATION_CLOSED)', schema: E } },
  },
  { method: 'get', path: '/api/athletes/me', operationId: 'getMe', summary: 'The caller and the profile the engine uses', responses: { 200: { description: 'athlete', schema: W.AthleteSchema } } },
  {
    method: 'put', path: '/api/athletes/me', operationId: 'replaceProfile', summary: 'Replace the profile (and optionally the name)', body: W.PutProfileBody,
    responses: { 200: { description: 'athlete', schema: W.AthleteSchema }, 400: { description: 'invalid field (BAD_REQUEST, BAD_STRING, BAD_JSON), or a name change (NAME_READ_ONLY)', schema: E } },
  },
  {
    method: 'patch', path: '/api/athletes/me', operationId: 'updateProfile', summary: 'Change some profile fields; the merged profile is checked whole', body: W.PatchProfileBody,
    responses: { 200: { description: 'athlete', schema: W.AthleteSchema }, 400: { description: 'invalid field (BAD_REQUEST, BAD_STRING, BAD_JSON) or an invalid merged profile (BAD_PROFILE)', schema: E } },
  },
  {
    method: 'post', path: '/api/runs', operationId: 'uploadRun', summary: 'Upload an activity file (raw body or multipart field `file`) and get its report', query: W.UploadQuery,
    rawBody: {
      'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
      'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } }, required: ['file'] } },
    },
    responses: {
      201: { description: 'analysed and stored', schema: W.UploadResponse },
      200: { description: 'the same bytes were uploaded before: the same run', schema: W.UploadResponse },
      400: { description: 'corrupt or not an activity (FIT_*, GPX_NO_POINTS, TCX_NO_POINTS, XML_*, GZIP_BAD: docs/formats.md), a bad query (BAD_REQUEST), or a malformed multipart body (BAD_UPLOAD)', schema: E },
      409: { description: 'the same activity is already stored in other bytes, e.g. re-exported (DUPLICATE_RUN; `id` names the stored run), or a conflict with what is stored (STORE_CONFLICT)', schema: E.extend({ id: z.string().optional() }) },
      413: { description: 'larger than the upload limit (PAYLOAD_TOO_LARGE, FIT_TOO_LARGE, XML_TOO_LARGE, GZIP_TOO_LARGE: a gzip file decompressing past it), too complex to decode within FIT_TIME_LIMIT_S (FIT_TOO_COMPLEX), or more records than UPLOAD_MAX_SAMPLES (RUN_TOO_LARGE)', schema: E },
      415: { description: 'not an activity file (FIT_NOT_FIT: none of FIT, GPX, TCX; XML_UNSUPPORTED: XML of another kind), an unsupported media type (UNSUPPORTED_MEDIA_TYPE) or content encoding (UNSUPPORTED_ENCODING)', schema: E },
      422: { description: 'the records span more than 7 days (RUN_TOO_LONG)', schema: E },
      429: { description: 'rate limited (RATE_LIMITED), or the upload queue or the caller\'s share of it is full (UPLOAD_QUEUE_FULL): see Retry-After', schema: E },
    },
  },
  { method: 'get', path: '/api/runs', operationId: 'listRuns', summary: 'The caller\'s runs, newest first, paged', query: W.ListRunsQuery, responses: { 200: { description: 'a page', schema: W.ListRunsResponse } } },
  { method: 'get', path: '/api/runs/{id}', operationId: 'getRun', summary: 'A run and its report', responses: { 200: { description: 'run', schema: W.RunResponse } } },
  { method: 'get', path: '/api/runs/{id}/samples', operationId: 'getRunSamples', summary: 'A run\'s samples as columns, optionally downsampled', query: W.SamplesQuery, responses: { 200: { description: 'columns', schema: W.SamplesResponse } } },
  { method: 'delete', path: '/api/runs/{id}', operationId: 'deleteRun', summary: 'Delete a run', responses: { 204: { description: 'deleted' } } },
  {
    method: 'get', path: '/api/runs/{id}/export', operationId: 'exportRun', summary: 'A stored run as a file to download: FIT, GPX, CSV, or the report as JSON', query: ExportQuery,
    responses: {
      200: { description: 'the file (Content-Disposition: attachment)', mediaType: 'application/octet-stream' },
      400: { description: 'format is not one of fit, gpx, csv, json (BAD_EXPORT_FORMAT), or a bad query (BAD_REQUEST)', schema: E },
      422: { description: 'the run cannot be written in that format (e.g. GPX without positions)', schema: E },
    },
  },
  { method: 'get', path: '/api/config', operationId: 'getPublicConfig', summary: 'The settings the dashboard needs (upload limit, map tiles)', auth: false, responses: { 200: { description: 'settings' } } },
  { method: 'get', path: '/api/athletes/me/model', operationId: 'getAthleteModel', summary: 'What the engine learned about the caller, the profile it uses and where each value comes from', responses: { 200: { description: 'model, profile and sources' } } },
  { method: 'post', path: '/api/reanalyze', operationId: 'startReanalysis', summary: 'Re-analyse the caller\'s stored runs with the current model (a background job)', responses: { 202: { description: 'the job (Location: /api/reanalyze/{id})' } } },
  { method: 'get', path: '/api/reanalyze/{id}', operationId: 'getReanalysis', summary: 'A re-analysis job\'s progress', responses: { 200: { description: 'the job' } } },
  {
    method: 'post', path: '/api/watch/{message}', operationId: 'postWatchMessage', summary: 'The watch protocol over HTTP: one message (start, samples, event or end), answered with its ack, the run\'s alerts after `alertsAfter` and the latest risk (docs/watch-protocol.md)',
    pathParams: { message: { type: 'string', enum: ['start', 'samples', 'event', 'end'] } },
    query: z.object({ alertsAfter: z.number().int().min(0).optional().describe('The alertPos of the previous answer: alerts after it come in this one') }),
    rawBody: { 'application/json': { schema: { type: 'object', description: 'The socket message of that name (src/wire/events.ts)' } } },
    responses: {
      200: { description: 'the ack ({ok: true, …}) with alerts, alertPos and risk' },
      400: { description: 'the message does not match its schema (BAD_MESSAGE), a malformed batch (SAMPLE_INVALID), a bad alertsAfter (BAD_REQUEST)', schema: E },
      404: { description: 'no such message (NOT_FOUND), or no open run with that id for this athlete (UNKNOWN_RUN)', schema: E },
      409: { description: 'the run has ended (RUN_ENDED), or seq is beyond the next expected one (SEQ_GAP, with expectedSeq)', schema: E },
      413: { description: 'more than 600 samples (SAMPLE_BATCH_TOO_LARGE), or a body over 1 MB (PAYLOAD_TOO_LARGE)', schema: E },
      429: { description: 'too many messages or samples (RATE_LIMITED), or too many open runs (TOO_MANY_RUNS): see retryAfterMs and Retry-After', schema: E },
      503: { description: 'the store did not answer (STORE_UNAVAILABLE), or another process has the run (RUN_ELSEWHERE): send again shortly', schema: E },
    },
  },
  { method: 'post', path: '/api/cramps', operationId: 'recordCramp', summary: 'Record a cramp in the journal', body: W.CrampBody, responses: { 201: { description: 'recorded', schema: W.CrampSchema }, 404: { description: 'runId is not one of the caller\'s runs (NOT_FOUND)', schema: E } } },
  { method: 'get', path: '/api/cramps', operationId: 'listCramps', summary: 'The cramp journal, newest first', query: W.ListCrampsQuery, responses: { 200: { description: 'a page', schema: W.ListCrampsResponse } } },
];

/**
 * The error answers an operation can give besides its own: what every /api request can meet (the rate limits,
 * the store, a bad path), what authentication, a body, a query and an id add, and what a write can meet.
 */
export function commonErrors(op: Operation): Record<number, string> {
  const out: Record<number, string> = {};
  if (!op.service) {
    out[400] = 'a bad request target or query (BAD_REQUEST), or a string no store keeps (BAD_STRING)';
    out[429] = 'rate limited (RATE_LIMITED): see Retry-After';
    out[503] = 'the store is unavailable (STORE_UNAVAILABLE): see Retry-After';
  }
  if (op.auth !== false) out[401] = 'missing token (UNAUTHENTICATED) or unknown token (BAD_TOKEN)';
  if (op.body) {
    out[400] = 'invalid JSON (BAD_JSON), a field that does not match the schema (BAD_REQUEST), or a string no store keeps (BAD_STRING)';
    out[413] = 'the body is larger than the limit (PAYLOAD_TOO_LARGE)';
    out[415] = 'an unsupported content encoding (UNSUPPORTED_ENCODING)';
  }
  if (op.path.includes('{id}')) out[404] = op.path.startsWith('/api/reanalyze') ? 'no such job of the caller\'s (NOT_FOUND)' : 'no such run, or another athlete\'s (NOT_FOUND)';
  if (op.method !== 'get' && !op.service) {
    out[409] = 'conflicts with what is stored (STORE_CONFLICT)';
    out[507] = 'storage is full (STORE_FULL): nothing was stored';
  }
  out[500] = 'a bug (INTERNAL), logged on the server';
  return out;
}

/** Converts a schema, collecting named sub-schemas (`.meta({id})`) into `components`. */
function convert(schema: z.ZodType, io: Io, components: Record<string, unknown>): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, unknown>;
  delete json.$defs;
  const rewrite = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
  for (const [name, def] of Object.entries(defs)) components[name] ??= rewrite(def);
  return rewrite(json);
}

export function buildOpenApi(version: string): object {
  const components: Record<string, unknown> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  for (const op of OPERATIONS) {
    const parameters: unknown[] = op.path.includes('{id}') ? [idParam] : [];
    for (const [name, schema] of Object.entries(op.pathParams ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    if (op.query) {
      const q = convert(op.query, 'input', components) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        const description = (schema as { description?: string }).description;
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema, ...(description ? { description } : {}) });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { [r.mediaType ?? 'application/json']: { schema: convert(r.schema, 'output', components) } } }
        : r.mediaType
          ? { description: r.description, content: { [r.mediaType]: { schema: { type: 'string' } } } }
          : { description: r.description };
    }
    for (const [status, description] of Object.entries(commonErrors(op))) {
      if (responses[status]) continue;
      responses[status] = { description, content: { 'application/json': { schema: errorRef } } };
    }
    const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
    const requestBody = op.body
      ? { required: true, content: { 'application/json': { schema: convert(op.body, 'input', components) } } }
      : op.rawBody
        ? { required: true, content: op.rawBody }
        : undefined;
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: sorted,
      ...(op.auth === false ? { security: [] } : {}),
    };
  }
  components.Error ??= convert(W.ErrorBodySchema, 'output', {});
  return {
    openapi: '3.1.0',
    info: {
      title: 'crampguard',
      version,
      description: 'In-run cramp coach. Live runs use the socket.io namespace `/watch` (see docs/watch-protocol.md).',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}

/**
 * The operation a request to `method path` is answered by (path with its parameters filled in), for tests that
 * check answers against the document.
 */
export function operationFor(method: string, path: string): Operation | undefined {
  const bare = path.split('?')[0]!;
  return OPERATIONS.find(
    (op) => op.method === method.toLowerCase() && new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+').replaceAll('.', '\\.')}$`).test(bare),
  );
}

export { DOCS_HTML, DOCS_JS } from './api-docs-page.js';
