// The executable itself: version, usage errors, and output that cannot be written.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../src/tools/bin.ts', import.meta.url).pathname;
const TSX = new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).pathname;
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** pagelab runs the command line with standard output going to `stdout` ('pipe' or a file descriptor). */
function pagelab(
  args: string[],
  stdout: 'pipe' | number = 'pipe',
): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, BIN, ...args], {
    stdio: ['ignore', stdout, 'pipe'],
    encoding: 'utf8',
  });
  // stdout is null when it went to a file descriptor, although the type says string
  return { status: r.status, out: nullable(r.stdout) ?? '', err: r.stderr };
}

/** nullable widens a value Node's types call non-null. */
function nullable<T>(v: T): T | null {
  return v;
}

describe('the pagelab executable', () => {
  it('--version prints the package version', () => {
    const r = pagelab(['--version']);
    expect([r.status, r.out.trim()]).toEqual([0, VERSION]);
  });

  it('a usage error is one line and a hint, exit status 2, not the whole help', () => {
    const r = pagelab(['boot', '--bogus']);
    expect(r.status).toBe(2);
    expect(r.err).toBe(
      "pagelab: unknown option '--bogus'\n(pagelab help COMMAND, or COMMAND --help, shows its options)\n",
    );
  });

  it('output that cannot be written (/dev/full) is an error, exit status 2', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = pagelab(['translate', '0xC0100000', '--json'], fd);
      expect(r.status).toBe(2);
      expect(r.err).toBe('pagelab: cannot write the output: ENOSPC\n');
    } finally {
      closeSync(fd);
    }
  });
});
