/**
 * Builds the phone companion (src/companion/web) into dist/companion, which the server serves at `/companion`.
 * Its own build, beside the dashboard's: the companion is installable (manifest, service worker in public/) and
 * must not pull the dashboard's charts into a bundle a phone downloads on mobile data.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('./src/companion/web/', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/companion/', import.meta.url));

export default defineConfig({
  root: webRoot,
  base: './',
  logLevel: 'warn',
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 200,
  },
  server: {
    proxy: { '/api': 'http://localhost:8080' },
  },
});
