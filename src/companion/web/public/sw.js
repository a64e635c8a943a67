/*
 * The companion's service worker: keeps the app itself (this folder: the page, its hashed bundle, the manifest
 * and icon) so the page opens without a network, and never touches the API or the socket: run data goes through
 * the page's own outbox (IndexedDB), which resends it, not through a cache that could replay or swallow it.
 * The page: network first, the cached copy when offline. Hashed assets: cache first (their names change with
 * their contents).
 */
const CACHE = 'crampguard-companion-v1';
const SCOPE = new URL('./', self.location.href).pathname;
const SHELL = ['./', './index.html', './manifest.webmanifest', './icon.svg'];

/** The shell and the bundle the page names (its hashed script and style), so the first visit is enough. */
async function precache() {
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL);
  const page = await cache.match('./index.html');
  const html = page ? await page.text() : '';
  const assets = [...html.matchAll(/(?:src|href)="(\.\/assets\/[^"]+)"/g)].map((m) => m[1]);
  await cache.addAll(assets);
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isApp(url) {
  return url.origin === self.location.origin && url.pathname.startsWith(SCOPE) && !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/socket.io/');
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  // Only GETs of the app's own files; everything else (the API, the socket, other pages) goes straight out.
  if (req.method !== 'GET' || !isApp(url)) return;
  if (req.mode === 'navigate' || url.pathname === SCOPE || url.pathname.endsWith('/index.html')) {
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            void caches.open(CACHE).then((c) => c.put('./index.html', copy));
          }
          return res;
        })
        .catch(() => caches.match('./index.html').then((hit) => hit || Response.error())),
    );
    return;
  }
  event.respondWith(
    caches.match(req).then(
      (hit) =>
        hit ||
        fetch(req).then((res) => {
          if (res.ok) {
            const copy = res.clone();
            void caches.open(CACHE).then((c) => c.put(req, copy));
          }
          return res;
        }),
    ),
  );
});
