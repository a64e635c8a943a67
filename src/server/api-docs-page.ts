/**
 * GET /api/docs: the OpenAPI document rendered as a page a person can use — operations grouped by area, each with
 * its operationId, parameters, request body and every response status, schemas as nested field lists with their
 * constraints, and references as links to the named schemas — by a small script of our own, served from this
 * server (no CDN; the CSP allows only same-origin scripts).
 *
 * The script is {@link renderApiDocs}, sent as its source text: it runs in the browser, so it uses nothing from
 * this module's scope, and the few DOM calls it makes are typed by the local interfaces below.
 * @module
 */

/** The parts of a DOM element the renderer uses. */
interface El {
  append(...nodes: (El | string)[]): void;
  setAttribute(name: string, value: string): void;
  className: string;
  textContent: string | null;
}
interface Doc {
  createElement(tag: string): El;
  getElementById(id: string): El | null;
  title: string;
}
type Json = Record<string, unknown>;

/** Renders `spec` (an OpenAPI 3.1 document) into the element with id `root`. Runs in the browser. */
export function renderApiDocs(document: Doc, spec: Json): void {
  const el = (tag: string, attrs: Record<string, string>, ...children: (El | string | null)[]): El => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null) e.append(c);
    return e;
  };
  const schemas = ((spec.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  const refName = (ref: string) => ref.replace('#/components/schemas/', '');
  const refLink = (ref: string) => el('a', { href: `#schema-${refName(ref)}`, class: 'ref' }, refName(ref));

  /** One line saying what a value is: type, format, limits, enum, default. */
  function typeOf(s: Json): (El | string)[] {
    if (typeof s.$ref === 'string') return [refLink(s.$ref)];
    const alternatives = (s.anyOf ?? s.oneOf) as Json[] | undefined;
    if (alternatives) {
      const out: (El | string)[] = [];
      alternatives.forEach((a, i) => out.push(...(i ? [' | '] : []), ...typeOf(a)));
      return out;
    }
    if (s.const !== undefined) return [JSON.stringify(s.const)];
    if (Array.isArray(s.enum)) return [s.enum.map((v) => JSON.stringify(v)).join(' | ')];
    const type = Array.isArray(s.type) ? s.type.join(' | ') : typeof s.type === 'string' ? s.type : 'any';
    if (type === 'array' && s.items) return ['array of ', ...typeOf(s.items as Json)];
    const limits: string[] = [];
    const add = (key: string, label: string) => {
      if (s[key] !== undefined) limits.push(`${label} ${typeof s[key] === 'string' ? s[key] : JSON.stringify(s[key])}`);
    };
    add('format', 'format');
    add('minimum', '≥');
    add('exclusiveMinimum', '>');
    add('maximum', '≤');
    add('exclusiveMaximum', '<');
    add('minLength', 'length ≥');
    add('maxLength', 'length ≤');
    add('minItems', 'items ≥');
    add('maxItems', 'items ≤');
    add('pattern', 'matching');
    add('default', 'default');
    return [type + (limits.length ? ` (${limits.join(', ')})` : '')];
  }

  /** A schema as a nested list of its fields (objects), or its type line. */
  function schemaView(s: Json, depth: number): El {
    const props = s.properties as Record<string, Json> | undefined;
    if (!props || depth > 6) return el('div', { class: 'type' }, ...typeOf(s));
    const required = new Set((s.required as string[] | undefined) ?? []);
    const list = el('ul', { class: 'fields' });
    for (const [name, p] of Object.entries(props)) {
      const item = el(
        'li',
        {},
        el('code', {}, name),
        required.has(name) ? el('span', { class: 'req' }, ' required') : null,
        ' — ',
        ...typeOf(p),
        typeof p.description === 'string' ? el('div', { class: 'desc' }, p.description) : null,
      );
      if (p.properties) item.append(schemaView(p, depth + 1));
      else if (p.type === 'array' && (p.items as Json | undefined)?.properties) item.append(schemaView(p.items as Json, depth + 1));
      list.append(item);
    }
    if (s.additionalProperties === false) list.append(el('li', { class: 'desc' }, 'no other fields'));
    return list;
  }

  function contentView(content: Record<string, Json> | undefined): El | null {
    if (!content) return null;
    const box = el('div', {});
    for (const [media, body] of Object.entries(content)) {
      box.append(el('div', { class: 'media' }, media), schemaView((body.schema ?? {}) as Json, 0));
    }
    return box;
  }

  const root = document.getElementById('root');
  if (!root) return;
  root.textContent = '';
  const info = (spec.info ?? {}) as Json;
  document.title = `${String(info.title ?? 'API')} API`;
  root.append(
    el('h1', {}, `${String(info.title ?? 'API')} API `, el('span', { class: 'version' }, String(info.version ?? ''))),
    el('p', {}, String(info.description ?? '')),
    el('p', {}, 'Every call but those marked “no token” sends ', el('code', {}, 'Authorization: Bearer TOKEN'), '. Errors are ', el('code', {}, '{"error":{"code","message"}}'), '. Machine-readable: ', el('a', { href: '/api/openapi.json' }, '/api/openapi.json'), ' (OpenAPI 3.1).'),
  );

  // Operations, grouped by the first path segment under /api ("service" for the rest).
  const groups = new Map<string, { method: string; path: string; op: Json }[]>();
  for (const [path, ops] of Object.entries((spec.paths ?? {}) as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const segment = path.startsWith('/api/') ? path.split('/')[2] : undefined;
      const group = segment && !segment.includes('.') && segment !== 'docs' ? segment : 'service';
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group)!.push({ method, path, op });
    }
  }
  const toc = el('nav', {});
  root.append(toc);
  for (const [group, ops] of groups) {
    const list = el('ul', {});
    toc.append(el('div', { class: 'group' }, group), list);
    root.append(el('h2', { id: `group-${group}` }, group));
    for (const { method, path, op } of ops) {
      const id = String(op.operationId ?? `${method}-${path}`);
      list.append(el('li', {}, el('a', { href: `#${id}` }, el('span', { class: `m ${method}` }, method.toUpperCase()), ` ${path}`)));
      const section = el('section', { id, class: 'op' });
      const open = Array.isArray(op.security) && op.security.length === 0;
      section.append(
        el('h3', {}, el('span', { class: `m ${method}` }, method.toUpperCase()), ' ', el('code', {}, path)),
        el('p', {}, String(op.summary ?? ''), ' ', el('span', { class: 'opid' }, `operationId ${id}`), open ? el('span', { class: 'open' }, ' no token') : null),
      );
      const params = (op.parameters ?? []) as Json[];
      if (params.length) {
        const table = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'type'), el('th', {}, '')));
        for (const p of params) {
          table.append(
            el(
              'tr',
              {},
              el('td', {}, el('code', {}, String(p.name)), p.required ? el('span', { class: 'req' }, ' required') : null),
              el('td', {}, String(p.in)),
              el('td', {}, ...typeOf((p.schema ?? {}) as Json)),
              el('td', {}, String(p.description ?? '')),
            ),
          );
        }
        section.append(el('h4', {}, 'Parameters'), table);
      }
      const body = op.requestBody as Json | undefined;
      if (body) section.append(el('h4', {}, 'Request body'), contentView(body.content as Record<string, Json>) ?? el('p', {}, '-'));
      section.append(el('h4', {}, 'Responses'));
      for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
        const resolved = typeof r.$ref === 'string' ? ((spec.components as Json).responses as Record<string, Json>)[r.$ref.split('/').pop()!] ?? r : r;
        const content = resolved.content as Record<string, Json> | undefined;
        const media = content ? Object.keys(content) : [];
        const only = media.length === 1 && media[0] === 'application/json' ? ((content!['application/json']!.schema ?? {}) as Json) : null;
        const line = el('div', { class: `status s${status[0]}` }, el('b', {}, status), ' ', String(resolved.description ?? ''));
        section.append(line);
        // A body that is one named schema (the error body, mostly) is a link on the status line.
        if (only && typeof only.$ref === 'string') line.append(' → ', refLink(only.$ref));
        else {
          const view = contentView(content);
          if (view) section.append(view);
        }
      }
      root.append(section);
    }
  }

  root.append(el('h2', { id: 'schemas' }, 'Schemas'));
  for (const [name, s] of Object.entries(schemas)) {
    root.append(el('section', { id: `schema-${name}`, class: 'schema' }, el('h3', {}, name), typeof s.description === 'string' ? el('p', {}, s.description) : null, schemaView(s, 0)));
  }
}

/** The page; its script is served at /api/docs.js (same origin, so the CSP lets it run). */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>API documentation</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:1.5rem auto;padding:0 1rem;color:#1b1b1b}
code{font:13px ui-monospace,monospace;background:#f2f2f2;padding:0 .2rem;border-radius:3px}
h2{margin-top:2.5rem;border-bottom:1px solid #ccc;text-transform:capitalize}h3{margin:0 0 .3rem}h4{margin:.8rem 0 .3rem}
nav{columns:2 16rem;margin:1rem 0}nav .group{font-weight:600;text-transform:capitalize}nav ul{margin:.2rem 0 .6rem;padding-left:1rem;list-style:none}
.op,.schema{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.2rem;font:600 12px ui-monospace,monospace;color:#fff;background:#555;border-radius:3px;text-align:center;padding:.1rem .3rem}
.m.get{background:#0072b2}.m.post{background:#009e73}.m.put,.m.patch{background:#b06000}.m.delete{background:#c0392b}
.opid,.version,.media{color:#555;font-size:13px}.open{color:#0a6f4a;font-size:13px}.req{color:#b00020;font-size:12px}
.desc{color:#444;font-size:13px}.fields{margin:.2rem 0;padding-left:1.1rem}.status{margin-top:.4rem}.status b{font-family:ui-monospace,monospace}
.s4 b,.s5 b{color:#b00020}.s2 b{color:#0a6f4a}table{border-collapse:collapse;font-size:14px}td,th{border-bottom:1px solid #eee;padding:.2rem .6rem .2rem 0;text-align:left;vertical-align:top}
a.ref{font-family:ui-monospace,monospace;font-size:13px}
</style></head><body><main id="root">Loading the API description…</main><script src="/api/docs.js"></script></body></html>`;

/** The page's script: fetches the document and renders it with {@link renderApiDocs}. */
export const DOCS_JS = `'use strict';
fetch('/api/openapi.json').then(function (r) { return r.json(); }).then(function (spec) {
  (${renderApiDocs.toString()})(document, spec);
}).catch(function (e) { document.getElementById('root').textContent = 'Could not load /api/openapi.json: ' + e; });
`;
