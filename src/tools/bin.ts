#!/usr/bin/env node
// Executable entry of the `pagelab` command.
import { main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(70);
  },
);
