// Standard output and error drained before the process exits. On a pipe Node writes what the pipe takes at once
// and queues the rest; process.exit() right after a write would drop that queue (everything past 64 KiB).

/** The first failed write to standard output (a full disk, /dev/full), or null. */
let writeError: string | null = null;
/** Set once standard output's reader has gone (`pagelab ... | head -1`): the output simply ends. */
let pipeClosed = false;

/** watchOutput records failed writes to stdout and ends quietly on a closed pipe (EPIPE) on stdout or stderr. */
export function watchOutput(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') pipeClosed = true;
    else writeError ??= e.code ?? e.message;
  });
  process.stderr.on('error', () => {
    // nowhere left to say it: the messages end there
  });
}

/** flushOutput waits until stdout and stderr have written everything queued; gives the exit status to use. */
export async function flushOutput(code: number): Promise<number> {
  // a failed synchronous write reports its error on the next tick
  await new Promise((resolve) => setImmediate(resolve));
  await drained(process.stdout);
  if (writeError !== null && !pipeClosed) {
    process.stderr.write(`pagelab: cannot write the output: ${writeError}\n`);
    code = 2;
  }
  await drained(process.stderr);
  return code;
}

/** drained resolves when everything written to `s` so far has reached the file, pipe or terminal (or failed). */
export function drained(s: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed || !s.writable) {
      resolve();
      return;
    }
    s.once('error', () => resolve());
    s.write('', () => setImmediate(resolve)); // writes complete in order: this one's callback comes last
  });
}
