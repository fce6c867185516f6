// Large outputs through a real pipe to a slowly reading child: byte for byte what a file receives (issue 14, 1).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLOW_READER, shell, tablesDump, tempDir } from './cli.js';

let dir = '';
let dump = '';
let warnDump = '';
beforeAll(() => {
  dir = tempDir();
  dump = tablesDump(dir, 8);
  warnDump = tablesDump(dir, 0, 1024, 64 << 10);
});

/** throughPipe runs `args` once into a file and once through a slow pipe, and returns both outputs. */
function throughPipe(args: string, stream: 1 | 2): { file: string; piped: string; status: number | null } {
  const file = join(dir, 'file.out');
  const piped = join(dir, 'piped.out');
  const redirect = stream === 1 ? '' : '2>&1 >/dev/null';
  const r = shell(
    `$PAGELAB ${args} ${stream}>${file}; ` +
      `set -o pipefail; $PAGELAB ${args} ${redirect} | ${SLOW_READER} > ${piped}`,
  );
  return { file: readFileSync(file, 'latin1'), piped: readFileSync(piped, 'latin1'), status: r.status };
}

describe('output through a pipe', () => {
  it.each(['info-tlb', 'info-mem', 'tree', 'json'])('inspect --format %s: complete, as into a file', (format) => {
    const r = throughPipe(`inspect ${dump} --cr3 0 --format ${format}`, 1);
    expect(r.status).toBe(0);
    expect(r.file.length).toBeGreaterThan(200_000);
    expect(r.piped === r.file).toBe(true);
  });

  it('inspect --lint --json: complete, as into a file', () => {
    const r = throughPipe(`inspect ${dump} --cr3 0 --lint --json`, 1);
    expect(r.file.length).toBeGreaterThan(1000);
    expect(r.piped === r.file).toBe(true);
  });

  it('1,024 warnings on standard error: complete, as into a file', () => {
    const r = throughPipe(`inspect ${warnDump} --cr3 0 --format info-tlb`, 2);
    expect(r.file.split('\n').length).toBe(1025);
    expect(r.file.length).toBeGreaterThan(100_000);
    expect(r.piped === r.file).toBe(true);
  });

  it('a closed pipe (| head -1) ends quietly with status 0', () => {
    const r = shell(`set -o pipefail; $PAGELAB inspect ${dump} --cr3 0 --format info-tlb | head -1`);
    expect(r.err).toBe('');
    expect(r.out.split('\n').length).toBe(2);
    expect(r.status).toBe(0);
  });
});
