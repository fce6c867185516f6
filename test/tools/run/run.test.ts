// `pagelab run` on the committed programs' logs: exit codes, kills with their reports, --verify, frames given
// back, page-ins against an independent count, the JSON keys, the events, and what CR4.PGE saves.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../../src/hw/addr.js';
import { PF_P, PF_U, PF_W } from '../../../src/hw/paging.js';
import { readProcessLog } from '../../../src/tools/run/read.js';
import { runLogs, type RunResult } from '../../../src/tools/run/run.js';
import { main } from '../../../src/tools/cli.js';
import { bootFromCliOptions } from '../../../src/tools/commands/boot.js';
import { kernelInit } from '../../../src/kernel/main.js';
import { createProcessKernel } from '../../../src/kernel/proc/proc.js';
import { Driver } from '../../../src/tools/run/driver.js';
import { Program } from '../../../src/tools/run/program.js';
import { ACCESS_WRITE, type AccessKind } from '../../../src/hw/fault.js';

const LOGS = new URL('../../programs/logs/', import.meta.url).pathname;
const logsOf = (prefix: string): string[] =>
  readdirSync(LOGS)
    .filter((f) => f.startsWith(prefix + '.') && /^\d+\.lk\.gz$/.test(f.slice(prefix.length + 1)))
    .map((f) => LOGS + f);

const runs = new Map<string, Promise<RunResult>>();
/** run runs a program's logs once per option set (the tests share the results). */
function run(prefix: string, verify = true): Promise<RunResult> {
  const key = `${prefix}/${verify}`;
  if (!runs.has(key)) runs.set(key, runLogs(logsOf(prefix), { verify }));
  return runs.get(key)!;
}

describe('pagelab run: the programs run to their own exit codes', () => {
  for (const name of ['compute', 'malloc', 'stack', 'fork']) {
    it(`${name}: every process exits with its log's code, --verify finds no mismatch, every frame comes back`, async () => {
      const { json } = await run(name);
      const logs = await Promise.all(logsOf(name).map((p) => readProcessLog(p)));
      expect(json.processes).toHaveLength(logs.length);
      for (const p of json.processes) {
        const log = logs.find((l) => l.pid === p.logPid)!;
        expect([p.killed, p.exitCode, p.accesses]).toEqual([null, log.exitCode, log.length]);
      }
      expect(json.divergences).toEqual([]);
      expect(json.verify!.loads).toBeGreaterThan(1000);
      expect(json.verify!.mismatches).toBe(0);
      expect(json.frames.freeAfter).toBe(json.frames.freeBefore);
      expect(json.frames.freeBefore).toBeLessThan(json.frames.total);
    });
  }

  it('fork: three children forked copy-on-write, pages copied on write, the parent after its children', async () => {
    const { json } = await run('fork');
    const [root, ...kids] = json.processes;
    expect(root.parent).toBe(0);
    expect(kids.map((k) => k.parent).sort()).toEqual([root.pid, root.pid, kids[0].pid].sort());
    expect(json.totals.cowCopies).toBeGreaterThan(16);
    for (const k of kids) expect(k.faults.cow).toBeGreaterThan(0);
    expect(json.totals.contextSwitches).toBeGreaterThanOrEqual(6);
  });

  it('malloc: the mmap2 blocks and the brk heap are paged in on demand and given back', async () => {
    const { json } = await run('malloc');
    const p = json.processes[0];
    expect(p.faults.zero).toBeGreaterThan(300);
    expect(p.maxResident).toBeLessThan(p.pageIns); // munmap and brk shrinking freed pages on the way
  });

  it('stack: growth by megabytes is stack faults', async () => {
    const { json } = await run('stack');
    expect(json.processes[0].faults.stack).toBeGreaterThanOrEqual(1024);
  });
});

describe('pagelab run: a fork-free program pages in exactly what it touches', () => {
  it('compute: pageIns is the distinct user pages of its records, its copy-outs and the exec stack', async () => {
    const { json } = await run('compute');
    const log = await readProcessLog(logsOf('compute')[0]);
    const pages = new Set<number>();
    const touch = (a: number, n: number): void => {
      for (let p = Math.floor(a / PAGE_SIZE); p <= Math.floor((a + n - 1) / PAGE_SIZE); p++) pages.add(p);
    };
    for (let i = 0; i < log.length; i++) touch(log.addr[i], log.size[i]);
    for (const c of log.calls) {
      if (c.failed) continue;
      if (c.nr === 191) touch(c.args[1], 8); // getrlimit
      if (c.nr === 85) touch(c.args[1], c.result!); // readlink
      if (c.nr === 355) touch(c.args[0], c.result!); // getrandom
      if (c.nr === 243) touch(c.args[0], 4); // set_thread_area
    }
    touch(json.stack.pointer, json.stack.top - json.stack.pointer);
    expect(json.processes[0].pageIns).toBe(pages.size);
    expect(json.totals.pageIns).toBe(pages.size);
  });
});

describe('pagelab run: the faulting program is killed with the right report', () => {
  const cases: Array<[string, number, number, string]> = [
    ['fault.rodata', -1, PF_P | PF_W | PF_U, 'write to read-only'],
    ['fault.null', 0, PF_U, 'no region'],
    ['fault.kernel', 0xc0001000, PF_P | PF_W | PF_U, 'kernel address'],
  ];
  for (const [name, address, errorCode, reason] of cases) {
    it(`${name}: killed (${reason}, error code ${errorCode}), its frames back, the kernel goes on`, async () => {
      const { json } = await run(name, false);
      const log = await readProcessLog(logsOf(name)[0]);
      const p = json.processes[0];
      expect(p.exitCode).toBeNull();
      expect(p.killed).toMatchObject({ address: address < 0 ? log.death!.address : address, errorCode, reason });
      expect(p.killed!.record).toBe(log.length);
      expect(p.faults.protection).toBe(1);
      expect(json.divergences).toEqual([]);
      expect(json.frames.freeAfter).toBe(json.frames.freeBefore);
      expect(json.verify).toBeNull();
    });
  }
});

describe('pagelab run: output', () => {
  it('--json has exactly the keys README.md lists', async () => {
    const { json } = await run('fork');
    expect(Object.keys(json).sort()).toEqual(
      ['divergences', 'frames', 'options', 'processes', 'stack', 'totals', 'verify'].sort(),
    );
    expect(Object.keys(json.processes[0]).sort()).toEqual(
      [
        'pid',
        'parent',
        'logPid',
        'log',
        'command',
        'exitCode',
        'killed',
        'accesses',
        'faults',
        'pageIns',
        'maxResident',
      ].sort(),
    );
    expect(Object.keys(json.processes[0].faults).sort()).toEqual(['cow', 'file', 'protection', 'stack', 'zero']);
    expect(Object.keys(json.totals).sort()).toEqual(
      ['accesses', 'contextSwitches', 'cowCopies', 'cowTakeovers', 'pageFaults', 'pageIns', 'tlb'].sort(),
    );
    expect(Object.keys(json.totals.tlb)).toContain('misses');
    expect(Object.keys(json.frames).sort()).toEqual(['freeAfter', 'freeBefore', 'total']);
    expect(Object.keys(json.verify!).sort()).toEqual(['first', 'loads', 'mismatches']);
  });

  it('--events writes JSON lines: faults with kind, address and error code, switches, forks, exits', async () => {
    const file = join(tmpdir(), `pagelab-run-events-${process.pid}.jsonl`);
    try {
      const { json } = await runLogs(logsOf('fork'), { events: file, quantum: 2000 });
      const events = readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; kind?: string; address?: number; errorCode?: number });
      const count = (t: string): number => events.filter((e) => e.type === t).length;
      expect(count('fork')).toBe(3);
      expect(count('exit')).toBe(4);
      expect(count('switch')).toBe(json.totals.contextSwitches);
      expect(count('fault')).toBe(json.totals.pageFaults);
      const cow = events.find((e) => e.type === 'fault' && e.kind === 'cow')!;
      expect(cow.errorCode! & (PF_P | PF_W | PF_U)).toBe(PF_P | PF_W | PF_U);
      expect(typeof cow.address).toBe('number');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('--events: the exec (after its stack pages), then the kill with its address, error code and reason', async () => {
    const file = join(tmpdir(), `pagelab-run-kill-${process.pid}.jsonl`);
    try {
      await runLogs(logsOf('fault.kernel'), { events: file });
      const events = readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const exec = events.findIndex((e) => e.type === 'exec');
      expect(events[exec]).toMatchObject({ pid: 1 });
      expect(events.slice(0, exec).every((e) => e.type === 'fault' && e.kernel === true)).toBe(true); // its stack
      const kill = events.find((e) => e.type === 'kill')!;
      expect(kill).toMatchObject({
        pid: 1,
        address: 0xc0001000,
        errorCode: PF_P | PF_W | PF_U,
        reason: 'kernel address',
      });
      expect(events.indexOf(kill)).toBeGreaterThan(exec);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('CR4.PGE keeps kernel pages across switches: --no-pge misses more, on the same switches', async () => {
    const pge = await runLogs(logsOf('fork'), { quantum: 500 });
    const none = await runLogs(logsOf('fork'), { quantum: 500, pge: false });
    expect([pge.json.options.pge, none.json.options.pge]).toEqual([true, false]);
    expect(none.json.totals.contextSwitches).toBe(pge.json.totals.contextSwitches);
    expect(none.json.totals.tlb.misses).toBeGreaterThan(pge.json.totals.tlb.misses);
    expect(none.json.totals.pageFaults).toBe(pge.json.totals.pageFaults);
  });

  it('the CLI prints the summary, or one pagelab: line and status 2 for bad input', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const w1 = process.stdout.write.bind(process.stdout);
    const w2 = process.stderr.write.bind(process.stderr);
    process.stdout.write = (s: string) => out.push(s) > 0;
    process.stderr.write = (s: string) => err.push(s) > 0;
    try {
      expect(await main(['run', ...logsOf('fault.null')])).toBe(0);
      expect(await main(['run', '--quantum', 'x', ...logsOf('fault.null')])).toBe(2);
      expect(await main(['run', LOGS + 'missing.lk'])).toBe(2);
    } finally {
      process.stdout.write = w1;
      process.stderr.write = w2;
    }
    expect(out.join('')).toMatch(/killed: no region at 0x00000000, error code 0x4 \(not present, read, user\)/);
    expect(out.join('')).toMatch(/frames: \d+ in all, (\d+) free before the first exec, \1 after/);
    expect(err).toHaveLength(2);
    expect(err[0]).toMatch(/^pagelab: --quantum x: expected a whole number/);
    expect(err[1]).toMatch(/^pagelab: .*missing\.lk/);
  });

  it('--quiet leaves out the table of processes, keeping the kills and the totals', async () => {
    const print = async (args: string[]): Promise<string> => {
      const out: string[] = [];
      const w = process.stdout.write.bind(process.stdout);
      process.stdout.write = (s: string) => out.push(s) > 0;
      try {
        expect(await main(['run', ...args, ...logsOf('fault.null')])).toBe(0);
      } finally {
        process.stdout.write = w;
      }
      return out.join('');
    };
    const loud = await print([]);
    const quiet = await print(['--quiet']);
    expect(loud).toMatch(/^pid +parent +command/m);
    expect(quiet).not.toMatch(/^pid +parent/m);
    expect(quiet).toMatch(/^pid 1 killed: no region at 0x00000000/m);
    expect(quiet).toMatch(/^totals: \d+ accesses/m);
    expect(loud.endsWith(quiet)).toBe(true);
  });

  it('on a terminal a progress bar goes to stderr, but not with --quiet', async () => {
    const bar = async (args: string[]): Promise<number> => {
      const err: string[] = [];
      const w1 = process.stdout.write.bind(process.stdout);
      const w2 = process.stderr.write.bind(process.stderr);
      const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
      Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
      process.stdout.write = () => true;
      process.stderr.write = (s: string) => err.push(s) > 0;
      try {
        expect(await main(['run', '--quantum', '100', ...args, ...logsOf('fault.null')])).toBe(0);
      } finally {
        process.stdout.write = w1;
        process.stderr.write = w2;
        if (tty === undefined) delete (process.stderr as { isTTY?: boolean }).isTTY;
        else Object.defineProperty(process.stderr, 'isTTY', tty);
      }
      return err.length;
    };
    expect(await bar([])).toBeGreaterThan(0);
    expect(await bar(['--quiet'])).toBe(0);
  });
});

describe('pagelab run: --verify can fail', () => {
  it('finds a kernel that writes a wrong byte, and names the first such load', async () => {
    const path = logsOf('compute')[0];
    const log = await readProcessLog(path);
    const elf = new URL('../../programs/compute', import.meta.url).pathname;
    const { result, kernelOptions } = bootFromCliOptions({});
    const kernel = createProcessKernel(kernelInit(result.info, { ...kernelOptions, quiet: true }));
    let bad = -1;
    const broken = new Proxy(kernel, {
      get(t, key) {
        if (key === 'access')
          return (pid: number, l: number, size: 1 | 2 | 4, kind: AccessKind, value?: number): number => {
            if (kind === ACCESS_WRITE && bad < 0 && l >= 0x08100000 && l < 0xb0000000) bad = l; // a heap store
            return t.access(pid, l, size, kind, kind === ACCESS_WRITE && l === bad ? (value ?? 0) ^ 1 : value);
          };
        const v: unknown = Reflect.get(t, key, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
      set: (t, key, v) => Reflect.set(t, key, v, t),
    });
    const driver = new Driver(broken, new Program(new Uint8Array(readFileSync(elf)), elf), [{ name: path, log }], {
      quantum: 10_000,
      verify: true,
    });
    driver.run();
    const shadow = driver.procs[0].shadow!;
    expect(bad).toBeGreaterThan(0);
    expect(shadow.mismatches).toBeGreaterThan(0);
    expect(shadow.first!.address).toBe(bad);
    expect(shadow.first!.got ^ shadow.first!.expected).toBe(1);
  });
});
