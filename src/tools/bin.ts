#!/usr/bin/env node
// Executable entry of the `pagelab` command.
import { main } from './cli.js';
import { flushOutput, watchOutput } from './io/flush.js';

watchOutput();
main(process.argv.slice(2)).then(
  (code) => void flushOutput(code).then((status) => process.exit(status)),
  (e: unknown) => {
    console.error(e);
    void flushOutput(70).then(() => process.exit(70));
  },
);
