#!/usr/bin/env node
// Executable entry of the `pagelab` command.
import { main } from './cli.js';

/**
 * A failed write to standard output (a full disk, /dev/full) is an error the
 * user must see; a closed pipe (`pagelab boot | head`) only ends the output.
 */
let writeError: string | null = null;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode === undefined ? 0 : Number(process.exitCode));
  writeError ??= e.code ?? e.message;
});

main(process.argv.slice(2)).then(
  (code) => setImmediate(() => finish(code)), // after the stream has reported any failed write
  (e: unknown) => {
    console.error(e);
    process.exit(70);
  },
);

/** finish exits with the command's status, or 2 if its output could not be written. */
function finish(code: number): void {
  if (writeError !== null) {
    process.stderr.write(`pagelab: cannot write the output: ${writeError}\n`);
    process.exit(2);
  }
  process.exit(code);
}
