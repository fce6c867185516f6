#!/usr/bin/env node
// The `pagelab` command: runs the compiled CLI. `npm run build` compiles src/ into dist/src/; the package
// ships that build (`prepack` runs it), so installing pagelab runs no script. A clone needs the build first.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/tools/bin.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('pagelab: the compiled CLI (dist/src/tools/bin.js) is missing: run `npm run build` first\n');
  process.exit(2);
}
await import(cli.href);
