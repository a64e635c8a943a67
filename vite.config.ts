/**
 * Builds the web dashboard (src/dashboard/web) into dist/dashboard, which the server serves at `/`.
 * Relative asset URLs (`base: './'`) keep the bundle working whatever path the server mounts it under.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('./src/dashboard/web/', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/dashboard/', import.meta.url));

export default defineConfig({
  root: webRoot,
  base: './',
  logLevel: 'warn',
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 300,
  },
  server: {
    // `vite` in dev mode: proxy the API and the socket to a locally running `crampguard serve`.
    proxy: {
      '/api': 'http://localhost:8080',
      '/socket.io': { target: 'ws://localhost:8080', ws: true },
    },
  },
});
