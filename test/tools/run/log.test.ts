// The process-log parser: the committed real logs (records counted independently), every system-call form,
// errors naming line and column, chunk boundaries anywhere, and fuzzing; replay skips the syscall lines.
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { ProcessLogParser } from '../../../src/tools/run/log.js';
import { findElf, parseProcessLog, readProcessLog } from '../../../src/tools/run/read.js';
import { readRecords } from '../../../src/tools/replay/source.js';

const LOGS = new URL('../../programs/logs/', import.meta.url).pathname;
const logFile = (prefix: string): string => LOGS + readdirSync(LOGS).find((f) => f.startsWith(prefix))!;
const text = (path: string): string => gunzipSync(readFileSync(path)).toString('latin1');

const HEAD = '==7== Lackey, an example Valgrind tool\n==7== Command: ./prog a b\n==7== Parent PID: 3\n==7== \n';

function errorOf(src: string): ParseError {
  try {
    parseProcessLog(src);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('process logs: the committed ones', () => {
  it('compute: as many records and calls as an independent count of its lines finds', async () => {
    const path = logFile('compute.');
    const log = await readProcessLog(path);
    const lines = text(path).split('\n');
    expect(log.length).toBe(lines.filter((l) => /^(I {2}| [LSM] )[0-9a-f]+,\d+$/.test(l)).length);
    expect(log.calls.length).toBe(lines.filter((l) => l.startsWith('SYSCALL[')).length);
    expect(log.argv).toEqual(['./compute']);
    expect(log.exitCode).toBe(Number(/exit_group\( (\d+) \)/.exec(text(path))![1]));
    expect(log.forked).toBe(false);
    expect(findElf(path, log)).toMatch(/test\/programs\/compute$/);
    const brk = log.calls.find((c) => c.name === 'sys_brk')!;
    expect([brk.nr, brk.args, brk.result, brk.failed]).toEqual([45, [0], brk.result, false]);
    expect(log.calls.find((c) => c.name === 'ni_syscall')).toMatchObject({ nr: 386, failed: true, result: 0x26 });
  });

  it('fork: the parent names its children and waits; a child log starts with the fork returning 0', async () => {
    const logs = await Promise.all(
      readdirSync(LOGS)
        .filter((f) => f.startsWith('fork.'))
        .map((f) => readProcessLog(LOGS + f)),
    );
    const parent = logs.find((l) => !l.forked)!;
    const kids = logs.filter((l) => l.parentPid === parent.pid).map((l) => l.pid);
    expect(kids).toHaveLength(2);
    const forks = parent.calls.filter((c) => c.child !== null);
    expect(forks.map((c) => [c.child, c.result])).toEqual(kids.map((k) => [k, k]));
    const waits = parent.calls.filter((c) => c.name === 'sys_wait4');
    expect(waits.map((c) => [c.args[0], c.result])).toEqual(kids.map((k) => [k, k]));
    const child = logs.find((l) => l.pid === kids[0])!;
    expect([child.forked, child.calls[0].name]).toEqual([true, 'sys_set_robust_list']);
    expect(logs.filter((l) => l.forked)).toHaveLength(3); // two children and a grandchild
  });

  it('fault: the fatal signal, its address, whether it was mapped, and the faulting pc', async () => {
    const rodata = await readProcessLog(logFile('fault.rodata'));
    expect(rodata.death).toMatchObject({ signal: 11, name: 'SIGSEGV', mapped: true });
    expect(rodata.exitCode).toBeNull();
    const kernel = await readProcessLog(logFile('fault.kernel'));
    expect(kernel.death).toMatchObject({ address: 0xc0001000, mapped: false });
    expect(kernel.death!.pc).toBeGreaterThan(0x08048000);
    expect((await readProcessLog(logFile('fault.null'))).death!.address).toBe(0);
  });

  it('replay reads the same records from a log with system calls', async () => {
    const path = logFile('malloc.');
    let n = 0;
    await readRecords(path, { record: () => void n++ });
    expect(n).toBe((await readProcessLog(path)).length);
  });
});

describe('process logs: the grammar', () => {
  it('reads every system-call form', () => {
    const log = parseProcessLog(
      HEAD +
        'I  08049570,2\n' +
        'SYSCALL[7,1](45) sys_brk ( 0x0 ) --> [pre-success] Success(0x80f1000) \n' +
        'SYSCALL[7,1](85) sys_readlink ( 0x80cc0f8(/proc/(self)/exe), 0xbec437b0, 4096 ) --> [pre-success] Success(0x9) \n' +
        ' S bec448ec,4\n' +
        'SYSCALL[7,1](311) sys_set_robust_list ( 0x80f13ec, 12 )[sync] --> Success(0x0) \n' +
        'SYSCALL[7,1](20) sys_getpid ( ) --> [pre-success] Success(0x7) \n' +
        'SYSCALL[7,1](114) sys_wait4 ( -1, 0xbec8073c, 0, 0x0 ) --> [async] ... \n' +
        'SYSCALL[7,1](114) ... [async] --> Success(0x8) \n' +
        'SYSCALL[7,1](120) sys_clone ( 1200011, 0x0, 0x0, 0x0, 0x81023e8 )   clone(fork): process 7 created child 9\n' +
        ' --> [pre-success] Success(0x9) \n' +
        'SYSCALL[7,1](33) sys_access ( 0x1(x), 0 ) --> [pre-fail] Failure(0x2) \n' +
        'SYSCALL[7,1](252) exit_group( 3 ) --> [pre-success] Success(0x0) \n' +
        '==7== \n==7== Exit code:       0\n',
    );
    expect([log.pid, log.parentPid, log.argv, log.length, log.exitCode]).toEqual([7, 3, ['./prog', 'a', 'b'], 2, 3]);
    const c = log.calls;
    expect(c.map((x) => [x.name, x.at, x.result, x.failed])).toEqual([
      ['sys_brk', 1, 0x80f1000, false],
      ['sys_readlink', 1, 9, false],
      ['sys_set_robust_list', 2, 0, false],
      ['sys_getpid', 2, 7, false],
      ['sys_wait4', 2, 8, false],
      ['sys_clone', 2, 9, false],
      ['sys_access', 2, 2, true],
      ['exit_group', 2, 0, false],
    ]);
    expect(c[1].strings).toEqual(['/proc/(self)/exe', null, null]);
    expect(c[4].args).toEqual([-1, 0xbec8073c, 0, 0]);
    expect(c[5].child).toBe(9);
    expect(c[1].line).toBe(7);
  });

  it('names the line and the column of what it did not find', () => {
    const cases: Array<[string, RegExp]> = [
      ['I  0804957,\n', /line 5: expected a decimal size \(column 12\)/],
      ['I  123456789,1\n', /line 5: expected at most 8 hex digits.*column 12/],
      [' S 10,0\n', /line 5: expected a size of at least 1 \(column 7\)/],
      ['\n', /line 5: expected 'I {2}', ' L '.*column 1/],
      ['SYSCALL[7,1](45) sys_brk ( 0x0 --> x\n', /line 5: expected ',' \(column 32\)/],
      ['SYSCALL[7,1](45) sys_brk ( 0x0 ) --> Maybe(0x1)\n', /line 5: expected 'Success\(0x' \(column 38\)/],
      ['SYSCALL[8,1](45) sys_brk ( 0x0 ) --> Success(0x1)\n', /line 5: expected the pid 7.*column 9/],
      ['SYSCALL[7,1](114) ... [async] --> Success(0x8) \n', /line 5: expected a pending call 114/],
      [' L 10,4\n --> [pre-success] Success(0x0) \n', /line 6: expected a system call line before this result/],
      ['==8== x\n', /line 5: expected the pid 7 of the log's first line \(column 3\)/],
      [
        'SYSCALL[7,1](1) x ( 1 ) --> [async] ... \nSYSCALL[7,1](2) y ( 1 ) --> Success(0x0)\n',
        /line 6: expected the result of the call on line 5/,
      ],
    ];
    for (const [body, re] of cases) expect(errorOf(HEAD + body).message).toMatch(re);
    expect(errorOf('I  10,1\n').message).toMatch(/line 1: expected a '==PID== Command:' header/);
  });

  it('gives the same log whatever the chunk boundaries (property)', () => {
    const src = new TextEncoder().encode(text(logFile('fork.')).slice(0, 200_000));
    const whole = parseProcessLog(src);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }), (sizes) => {
        const p = new ProcessLogParser('chunks');
        for (let i = 0, k = 0; i < src.length; k++) {
          const n = sizes[k % sizes.length];
          p.push(src.subarray(i, i + n));
          i += n;
        }
        p.end();
        const log = p.log();
        expect([log.length, log.calls, log.forked, log.exitCode]).toEqual([
          whole.length,
          whole.calls,
          whole.forked,
          whole.exitCode,
        ]);
        expect(log.addr).toEqual(whole.addr);
        expect(log.size).toEqual(whole.size);
      }),
      { numRuns: 40 },
    );
  });

  it('throws nothing but ParseError on random lines (fuzz)', () => {
    const piece = fc.constantFrom(
      'I  ',
      ' L ',
      ' S ',
      ' M ',
      'SYSCALL[7,1](',
      ') ',
      ' --> ',
      '[async] ...',
      'Success(0x',
      'Failure(0x',
      '(',
      ')',
      ', ',
      '0x',
      '12',
      'ff',
      ',',
      '==7==',
      ' Command: ',
      '\n',
      ' ',
      'clone(fork): process 7 created child ',
      '[sync]',
      'exit_group',
      '...',
      '\r\n',
      'é',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        try {
          parseProcessLog(HEAD + parts.join(''));
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          expect(e.message).toMatch(/line \d+: expected .*\(column \d+\)|Command:/);
        }
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          parseProcessLog(b);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});
