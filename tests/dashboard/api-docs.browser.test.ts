// /api/docs in Chromium: the OpenAPI document rendered as a usable page by the server's own script (no CDN):
// every operation with its operationId and every response status, schemas as fields with links that resolve, no
// raw "$ref" text, no script error under the server's CSP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../src/server/openapi.js';
import { sqliteBackend, startTestServer, type TestServer } from '../server/helpers.js';
import { chromiumPath, collectPageErrors, launchBrowser, snap } from './harness.js';

const skip = chromiumPath() ? null : 'chromium is not installed (apt-get install -y chromium): /api/docs browser test skipped';
if (skip) console.log(skip);

describe.skipIf(skip !== null)('/api/docs in a browser', () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  beforeAll(async () => {
    server = await startTestServer(sqliteBackend);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.drop();
  });

  it('renders every operation, its statuses and its schemas', async () => {
    const page = await browser.context.newPage();
    const errors = collectPageErrors(page);
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url)) external.push(r.url());
    });
    await page.goto(`${server.url}/api/docs`);
    await page.waitForSelector('section.op');
    const doc = buildOpenApi('x') as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> };
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        const section = page.locator(`section#${op.operationId}`);
        expect(await section.count(), op.operationId).toBe(1);
        const statuses = await section.locator('.status b').allTextContents();
        expect(statuses, op.operationId).toEqual(Object.keys(op.responses));
      }
    }
    // Schema links resolve to a rendered schema; nothing shows as raw JSON references.
    const hrefs = await page.locator('a.ref').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs.length).toBeGreaterThan(5);
    for (const href of new Set(hrefs)) expect(await page.locator(href!).count(), href!).toBe(1);
    const text = await page.locator('main').innerText();
    expect(text).not.toContain('$ref');
    expect(text).not.toContain('#/components');
    // The profile's limits are readable where the upload and profile operations use them.
    expect(await page.locator('#schema-Profile').innerText()).toMatch(/hrMax[\s\S]*≤ 240/);
    await snap(page, 'api-docs');
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await page.close();
  }, 60_000);
});
