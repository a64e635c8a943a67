/**
 * The upload route takes every activity format decodeActivity reads (FIT, GPX, TCX, each gzipped or not),
 * as raw bytes or multipart, whatever the name or media type says; refusals keep the coded-error contract;
 * a run with positions gets lat/lon from GET /api/runs/:id/samples, one without does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XML_FIXTURES, xmlFixture } from '../ingest/activity-files.js';
import { api, newAthlete, SCENARIOS, sqliteBackend, startTestServer, type TestServer } from './helpers.js';

describe.skipIf(sqliteBackend.skip !== null)('uploads of GPX, TCX and gzip (SQLite)', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend);
    ({ token } = await newAthlete(server.url, 'Grete'));
  });
  afterAll(async () => {
    await server?.drop();
  });

  it('a GPX as raw bytes (application/gpx+xml) is analysed and keeps its positions', async () => {
    const gpx = xmlFixture(XML_FIXTURES.gpxGarmin);
    const up = await api(server.url, 'POST', '/api/runs', { token, body: gpx, headers: { 'content-type': 'application/gpx+xml' } });
    expect(up.status).toBe(201);
    expect(up.body.report.channels).toEqual(expect.arrayContaining(['hr', 'cadence', 'speed', 'distance']));
    const samples = await api(server.url, 'GET', `/api/runs/${up.body.id}/samples`, { token });
    expect(samples.status).toBe(200);
    expect(samples.body.columns.lat[0]).toBeCloseTo(22.552996091544628, 12);
    expect(samples.body.columns.lon[0]).toBeCloseTo(113.89963324181736, 12);
    const some = await api(server.url, 'GET', `/api/runs/${up.body.id}/samples?fields=t,lat`, { token });
    expect(Object.keys(some.body.columns)).toEqual(['t', 'lat']);
  });

  it('a gzipped TCX as multipart named .fit.gz is read by its content', async () => {
    const form = new FormData();
    form.append('file', new Blob([gzipSync(xmlFixture(XML_FIXTURES.tcxTpx))]), 'watch-export.fit.gz');
    const up = await api(server.url, 'POST', '/api/runs', { token, body: form });
    expect(up.status).toBe(201);
    expect(up.body.report.channels).toEqual(expect.arrayContaining(['hr', 'cadence', 'speed', 'distance']));
  });

  it('a FIT without positions gets no lat/lon columns by default', async () => {
    const fit = readFileSync(join(SCENARIOS, 'hr-only.fit'));
    const up = await api(server.url, 'POST', '/api/runs', { token, body: fit, headers: { 'content-type': 'application/octet-stream' } });
    expect(up.status).toBe(201);
    const samples = await api(server.url, 'GET', `/api/runs/${up.body.id}/samples`, { token });
    expect(samples.body.columns).not.toHaveProperty('lat');
    expect(samples.body.columns).toHaveProperty('hr');
  });

  it('refusals are coded: XML that is not an activity 415, an entity bomb 400, a gzip bomb 413', async () => {
    const kml = await api(server.url, 'POST', '/api/runs', { token, body: '<kml><Document/></kml>', headers: { 'content-type': 'application/xml' } });
    expect(kml.status).toBe(415);
    expect(kml.body.error.code).toBe('XML_UNSUPPORTED');
    const bomb = '<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><gpx><trk><name>&b;</name></trk></gpx>';
    const entities = await api(server.url, 'POST', '/api/runs', { token, body: bomb, headers: { 'content-type': 'text/xml' } });
    expect(entities.status).toBe(400);
    expect(entities.body.error.code).toBe('XML_ENTITIES');
    const zip = await api(server.url, 'POST', '/api/runs', { token, body: gzipSync(Buffer.alloc(80 * 1024 * 1024, 0x20)), headers: { 'content-type': 'application/gzip' } });
    expect(zip.status).toBe(413);
    expect(zip.body.error.code).toBe('GZIP_TOO_LARGE');
    const list = await api(server.url, 'GET', '/api/runs', { token });
    expect(list.body.runs).toHaveLength(3); // nothing refused was stored
  });
});
