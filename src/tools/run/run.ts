// `pagelab run`'s work without the CLI: boot the machine as `pagelab boot` does, bring up the process kernel,
// read the logs, run them, and gather the report. Tests and the benchmark call runLogs directly.

import { closeSync, openSync, writeSync } from 'node:fs';
import { PagelabError } from '../../errors.js';
import type { MmuCounters } from '../../hw/mmu.js';
import { kernelInit } from '../../kernel/main.js';
import { createProcessKernel } from '../../kernel/proc/proc.js';
import type { ProcessEvent, ProcessKernel } from '../../kernel/proc/api.js';
import { bootFromCliOptions, type BootCliOptions } from '../commands/boot.js';
import { outputErrors } from '../outfile.js';
import { Driver, type NamedLog } from './driver.js';
import { Program } from './program.js';
import { findElf, readProcessLog } from './read.js';
import { runJson, type RunJson } from './report.js';
import { INPUT_LIMITS, readInput } from '../io/input.js';
import { pagerOptions, swapReport, type SwapCliOptions, type SwapReport, type SwapTotals } from './swap.js';

export interface RunOptions extends BootCliOptions, SwapCliOptions {
  /** Records per time slice (default 10,000). */
  readonly quantum?: number;
  readonly verify?: boolean;
  /** false: the kernel marks nothing global and leaves CR4.PGE clear (its pages leave the TLB at every switch). */
  readonly pge?: boolean;
  /** The program's ELF file (default: from the first log's Command: line). */
  readonly elf?: string;
  /** A JSON-lines file for the events. */
  readonly events?: string;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface RunResult {
  /** With a frame budget, totals also carry SwapTotals' keys. */
  readonly json: RunJson & Partial<SwapReport> & { totals: RunJson['totals'] & Partial<SwapTotals> };
  readonly kernel: ProcessKernel;
  readonly driver: Driver;
  /** Wall-clock seconds of the run itself (after boot and reading the logs). */
  readonly seconds: number;
}

export const DEFAULT_QUANTUM = 10_000;

/** runLogs runs one program's process tree from its logs and returns the report. */
export async function runLogs(paths: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  if (paths.length === 0) throw new PagelabError('run: give the log files of one program (prog.PID.lk[.gz] ...)');
  const quantum = o.quantum ?? DEFAULT_QUANTUM;
  if (!Number.isInteger(quantum) || quantum < 1)
    throw new PagelabError(`--quantum ${quantum}: expected a whole number >= 1`);
  const logs: NamedLog[] = [];
  for (const p of paths) logs.push({ name: p, log: await readProcessLog(p) });
  const elfPath = o.elf ?? findElf(paths[0], logs[0].log);
  const program = new Program(readElf(elfPath), elfPath);
  const { result, kernelOptions } = bootFromCliOptions(o);
  const machine = result.info.machine;
  const globalKernel = o.pge !== false; // --no-pge: the kernel itself sets neither G nor CR4.PGE
  const swap = pagerOptions(o);
  const kinit = kernelInit(result.info, { ...kernelOptions, quiet: true, globalKernel });
  const kernel = createProcessKernel(kinit, swap === undefined ? {} : { swap });
  try {
    return run(kernel, machine, program, logs, o, quantum, swap);
  } finally {
    kernel.closeSwap();
  }
}

/** run drives the logs on the process kernel and gathers the report. */
function run(
  kernel: ProcessKernel,
  machine: { mmu: { counters(): MmuCounters; pge: boolean } },
  program: Program,
  logs: NamedLog[],
  o: RunOptions,
  quantum: number,
  swap: ReturnType<typeof pagerOptions>,
): RunResult {
  const events = o.events === undefined ? null : new EventWriter(o.events);
  const driver = new Driver(kernel, program, logs, {
    quantum,
    verify: o.verify ?? false,
    ...(events === null ? {} : { onEvent: (e, record, logPid) => events.write(e, record, logPid) }),
    ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
  });
  const before = machine.mmu.counters();
  const t0 = performance.now();
  try {
    driver.run();
  } finally {
    events?.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const base = runJson(kernel, {
    procs: driver.procs,
    divergences: driver.divergences,
    tlb: delta(machine.mmu.counters(), before),
    stack: { pointer: driver.stackPointer, top: driver.stackTop },
    options: { quantum, tlb: o.tlb ?? 'sa:16x4', pge: machine.mmu.pge, frames: o.frames ?? 'bitmap' },
  });
  const paging = swapReport(kernel, swap);
  const json = {
    ...base,
    ...(swap === undefined ? {} : paging.top),
    totals: { ...base.totals, ...(paging.totals ?? {}) },
  };
  return { json, kernel, driver, seconds };
}

/** readElf reads the program's ELF (a file, a pipe or `-`) within its bound. */
function readElf(path: string): Uint8Array {
  return readInput(path, '--elf', INPUT_LIMITS.elf);
}

/** delta is after - before, counter by counter. */
function delta(after: MmuCounters, before: MmuCounters): MmuCounters {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof MmuCounters)[]) out[k] = after[k] - before[k];
  return out;
}

/** Writes events as JSON lines (`{"type":...,"record":N,"logPid":P,...}`), buffered. */
class EventWriter {
  private readonly fd: number;
  private buf: string[] = [];

  constructor(private readonly path: string) {
    this.fd = outputErrors(path, '--events', () => openSync(path, 'w'));
  }

  write(e: ProcessEvent, record: number, logPid: number): void {
    this.buf.push(JSON.stringify({ ...e, record, logPid }));
    if (this.buf.length >= 4096) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    const text = this.buf.join('\n') + '\n';
    this.buf = [];
    outputErrors(this.path, '--events', () => writeSync(this.fd, text));
  }
}
