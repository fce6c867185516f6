// Vite builds the page from web/ into web/dist. src/ is imported as it is;
// the few Node modules it names (for CLI-only paths) resolve to web/src/shim.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const shim = fileURLToPath(new URL('./src/shim/node.ts', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    alias: [{ find: /^node:(fs|path|url|zlib)$/, replacement: shim }],
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
  worker: { format: 'es' },
  server: { fs: { allow: ['..'] } },
});
