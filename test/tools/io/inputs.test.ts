// Inputs as pipes, standard input and devices; bounds on every reader; no output over an input; one-line
// messages for command lines that name nothing to do (issue 14, cases 2-5).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, pagelab, shell, tempDir } from './cli.js';

const TRACE = join(FIXTURES, 'replay', 'small.lackey');
const KERNEL = new URL('../../../kernel/pagelab-kernel.elf', import.meta.url).pathname;
/** Node flags that cap the heap: a reader that does not bound its input dies instead of passing. */
const SMALL_HEAP = ['--max-old-space-size=256'];

/** oneLine checks a refusal: exit 2, one `pagelab:` line (and at most a second naming the help), no stack. */
function oneLine(r: { status: number | null; err: string }, pattern: RegExp): void {
  expect(r.status).toBe(2);
  const lines = r.err.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^pagelab: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines.length === 2) expect(lines[1]).toMatch(/help/);
}

describe('inputs from pipes, standard input and devices', () => {
  const expected = (): string =>
    (JSON.parse(pagelab(['replay', TRACE, '--json']).out) as { phys_hash: string }).phys_hash;

  it('replay reads process substitution, /dev/stdin and -, plain and gzip, as it reads the file', () => {
    const want = expected();
    for (const cmd of [
      `$PAGELAB replay <(cat ${TRACE}) --json`,
      `cat ${TRACE} | $PAGELAB replay /dev/stdin --json`,
      `gzip -c ${TRACE} | $PAGELAB replay - --json`,
      `$PAGELAB replay <(gzip -c ${TRACE}) --json`,
    ]) {
      const r = shell(cmd);
      expect(r.err, cmd).toBe('');
      expect((JSON.parse(r.out) as { phys_hash: string }).phys_hash, cmd).toBe(want);
    }
  });

  it('run reads a gzip process log from standard input as it reads the file', () => {
    const log = join(FIXTURES, '..', 'programs', 'logs', 'compute.20334.lk.gz');
    const elf = join(FIXTURES, '..', 'programs', 'compute');
    const exits = (out: string): unknown =>
      (JSON.parse(out) as { processes: { exitCode: number }[] }).processes.map((p) => p.exitCode);
    const fromFile = pagelab(['run', log, '--elf', elf, '--json']);
    const fromPipe = shell(`cat ${log} | $PAGELAB run - --elf ${elf} --json`);
    expect(fromFile.status).toBe(0);
    expect(fromPipe.err).toBe('');
    expect(exits(fromPipe.out)).toEqual(exits(fromFile.out));
  });

  it('a register file may come from standard input', () => {
    const dir = tempDir();
    const dump = join(dir, 'm.img');
    const json = join(dir, 'boot.json');
    expect(shell(`$PAGELAB boot --ram 16M --json --dump ${dump} > ${json}`).status).toBe(0);
    const fromFile = pagelab(['inspect', dump, '--regs', json, '--format', 'info-mem']);
    const fromStdin = pagelab(['inspect', dump, '--regs', '-', '--format', 'info-mem'], readFileSync(json));
    expect(fromFile.status).toBe(0);
    expect(fromStdin.out).toBe(fromFile.out);
  });

  it('a memory image from a pipe is refused by name', () => {
    const r = shell(`cat ${KERNEL} | $PAGELAB inspect /dev/stdin --cr3 0`);
    oneLine(r, /memory image \/dev\/stdin: a pipe or device/);
  });

  it('replay /dev/zero ends at once, at line 1 column 1', () => {
    const r = pagelab(['replay', '/dev/zero'], undefined, SMALL_HEAP);
    oneLine(r, /line 1: expected .* \(column 1\)/);
  });

  it.each([
    [['boot', '--kernel', '/dev/zero'], /--kernel \/dev\/zero: more than 64 MiB/],
    [['boot', '--module', '/dev/zero'], /--module \/dev\/zero: more than 64 MiB/],
    [['boot', '--multiboot', '/dev/urandom'], /--multiboot \/dev\/urandom: more than 64 MiB/],
    [['inspect', KERNEL, '--cr3', '0', '--regs', '/dev/zero'], /--regs \/dev\/zero: more than 16 MiB/],
  ])('an endless input is refused at its bound, in bounded memory: %j', (args, pattern) => {
    oneLine(pagelab(args, undefined, SMALL_HEAP), pattern);
  });
});

describe('no command writes over its own input, and failures leave no temporary file', () => {
  it('boot --dump onto the --kernel file is refused and the kernel is intact', () => {
    const dir = tempDir();
    const k = join(dir, 'k.elf');
    writeFileSync(k, readFileSync(KERNEL));
    oneLine(pagelab(['boot', '--kernel', k, '--dump', k]), /--dump .*k\.elf: that is the input/);
    expect(readFileSync(k).equals(readFileSync(KERNEL))).toBe(true);
    const other = join(dir, 'sub');
    mkdirSync(other);
    oneLine(pagelab(['boot', '--kernel', k, '--dump', join(other, '..', 'k.elf')]), /that is the input/);
  });

  it('replay --plot onto the trace is refused', () => {
    const dir = tempDir();
    const t = join(dir, 't.svg');
    writeFileSync(t, readFileSync(TRACE));
    oneLine(pagelab(['replay', t, '--sweep', 'fa:4,fa:8', '--plot', t]), /--plot .*: that is the input/);
    expect(statSync(t).size).toBe(statSync(TRACE).size);
  });

  it('trace convert of a missing input leaves nothing behind', () => {
    const dir = tempDir();
    oneLine(pagelab(['trace', 'convert', join(dir, 'missing.lk'), join(dir, 'out.bin')]), /ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(dir, 'out.bin'))).toBe(false);
  });
});

describe('command lines that name nothing to do', () => {
  it.each([
    [[], /no command given/],
    [['trace'], /trace: give one of its commands \(convert\)/],
    [['help', 'frob'], /unknown command 'frob'/],
    [['frob'], /unknown command 'frob'/],
    [['boot', '--bogus'], /unknown option '--bogus'/],
  ])('%j says what is wrong in one line', (args, pattern) => {
    const r = pagelab(args);
    oneLine(r, pattern);
    expect(r.out).toBe('');
  });

  it('a gzip input that is cut short names the file', () => {
    const dir = tempDir();
    const gz = join(dir, 't.lackey.gz');
    const whole = gzipSync(readFileSync(TRACE));
    writeFileSync(gz, whole.subarray(0, whole.length - 6));
    oneLine(pagelab(['replay', gz]), /t\.lackey\.gz/);
  });
});
