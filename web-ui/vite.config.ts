import { defineConfig } from 'vitest/config';

// `npm run build` writes to target/dist; Maven packages that directory under pulse-web/.
// `npm run dev` serves on :3000 with hot reload and proxies the API and WebSocket to a node on :8080
// (PULSE_DEV_BACKEND overrides it).
const backend = process.env.PULSE_DEV_BACKEND ?? 'http://localhost:8080';

export default defineConfig({
  base: './',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'target/dist',
    emptyOutDir: true,
    sourcemap: true,
  },
  server: {
    port: 3000,
    strictPort: true,
    proxy: {
      '/api': backend,
      '/health': backend,
      '/ws': { target: backend, ws: true },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
