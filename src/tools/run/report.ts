// What `pagelab run` reports: one JSON document (`--json`, keys as README.md lists them) or a human summary (a
// table per process, the totals, the frames, --verify's count), both built from the kernel's figures.

import type { MmuCounters } from '../../hw/mmu.js';
import type { FaultCounts, KillReport, ProcessKernel } from '../../kernel/proc/api.js';
import { describeErrorCode } from '../../hw/paging.js';
import type { Divergence, RunProc } from './driver.js';
import type { Mismatch, Shadow } from './shadow.js';

export interface RunProcessJson {
  pid: number;
  parent: number;
  /** The log's own pid (valgrind's) and its file. */
  logPid: number;
  log: string;
  command: string;
  exitCode: number | null;
  killed: (KillReport & { record: number }) | null;
  accesses: number;
  faults: FaultCounts;
  pageIns: number;
  maxResident: number;
}

export interface RunJson {
  processes: RunProcessJson[];
  totals: {
    accesses: number;
    pageFaults: number;
    pageIns: number;
    cowCopies: number;
    cowTakeovers: number;
    contextSwitches: number;
    tlb: MmuCounters;
  };
  frames: { total: number; freeBefore: number; freeAfter: number };
  verify: { loads: number; mismatches: number; first: Mismatch | null } | null;
  divergences: Divergence[];
  stack: { pointer: number; top: number };
  options: { quantum: number; tlb: string; pge: boolean; frames: string };
}

/** What the report is built from besides the kernel. */
export interface RunFacts {
  readonly procs: readonly RunProc[];
  readonly divergences: readonly Divergence[];
  readonly tlb: MmuCounters;
  readonly stack: { pointer: number; top: number };
  readonly options: RunJson['options'];
}

/** runJson gathers the document from the kernel's accounting records and the driver's counts. */
export function runJson(kernel: ProcessKernel, f: RunFacts): RunJson {
  const processes = f.procs.map((p): RunProcessJson => {
    const s = kernel.stats(p.kpid);
    return {
      pid: p.kpid,
      parent: s.parent,
      logPid: p.log.pid,
      log: p.name,
      command: p.log.argv.join(' '),
      exitCode: s.exitCode,
      killed: s.killed === null ? null : { ...s.killed, record: p.pos },
      accesses: p.records,
      faults: { ...s.faults },
      pageIns: s.pageIns,
      maxResident: s.maxResident,
    };
  });
  const t = kernel.totals();
  const fr = kernel.frames();
  return {
    processes,
    totals: {
      accesses: processes.reduce((n, p) => n + p.accesses, 0),
      pageFaults: t.pageFaults,
      pageIns: t.pageIns,
      cowCopies: t.cowCopies,
      cowTakeovers: t.cowTakeovers,
      contextSwitches: t.contextSwitches,
      tlb: f.tlb,
    },
    frames: { total: fr.total, freeBefore: fr.freeBefore, freeAfter: fr.freeNow },
    verify: verifyJson(f.procs),
    divergences: [...f.divergences],
    stack: f.stack,
    options: f.options,
  };
}

/** verifyJson sums the models' counts (null without --verify). */
function verifyJson(procs: readonly RunProc[]): RunJson['verify'] {
  const shadows = procs.map((p) => p.shadow).filter((s): s is Shadow => s !== null);
  if (shadows.length === 0) return null;
  return {
    loads: shadows.reduce((n, s) => n + s.loads, 0),
    mismatches: shadows.reduce((n, s) => n + s.mismatches, 0),
    first: shadows.find((s) => s.first !== null)?.first ?? null,
  };
}

/** summaryLines is the human report: the processes' table (not when quiet), kills, totals, frames, --verify. */
export function summaryLines(j: RunJson, quiet = false): string[] {
  const head = [
    'pid',
    'parent',
    'command',
    'exit',
    'accesses',
    'zero',
    'file',
    'stack',
    'cow',
    'prot',
    'page-ins',
    'max-res',
  ];
  const rows = j.processes.map((p) => [
    String(p.pid),
    String(p.parent),
    p.command,
    p.killed !== null ? 'killed' : String(p.exitCode),
    String(p.accesses),
    String(p.faults.zero),
    String(p.faults.file),
    String(p.faults.stack),
    String(p.faults.cow),
    String(p.faults.protection),
    String(p.pageIns),
    String(p.maxResident),
  ]);
  const out = quiet ? [] : table([head, ...rows]); // --quiet: no table of the processes
  for (const p of j.processes) if (p.killed !== null) out.push(killLine(p));
  const t = j.totals;
  out.push(
    ...(out.length > 0 ? [''] : []),
    `totals: ${t.accesses} accesses, ${t.pageFaults} page faults, ${t.pageIns} page-ins, ${t.cowCopies} COW copies` +
      ` (${t.cowTakeovers} taken over), ${t.contextSwitches} context switches`,
    `TLB (${j.options.tlb}, CR4.PGE ${j.options.pge ? 'on' : 'off'}): ${t.tlb.hits} hits, ${t.tlb.misses} misses,` +
      ` ${t.tlb.flushes} flushes, ${t.tlb.invlpgs} INVLPGs, ${t.tlb.evictions} evictions`,
    `frames: ${j.frames.total} in all, ${j.frames.freeBefore} free before the first exec, ${j.frames.freeAfter} after` +
      (j.frames.freeAfter === j.frames.freeBefore
        ? ' (all given back)'
        : ` (${j.frames.freeBefore - j.frames.freeAfter} not given back)`),
  );
  if (j.verify !== null) out.push(verifyLine(j.verify));
  for (const d of j.divergences)
    out.push(`differs from the log: ${d.process}${d.line > 0 ? ` line ${d.line}` : ''}: ${d.what}`);
  return out;
}

function killLine(p: RunProcessJson): string {
  const k = p.killed!;
  return (
    `pid ${p.pid} killed: ${k.reason} at 0x${hex(k.address)}, error code 0x${k.errorCode.toString(16)}` +
    ` (${describeErrorCode(k.errorCode)}), record ${k.record} of ${p.log}, ${k.region}`
  );
}

function verifyLine(v: NonNullable<RunJson['verify']>): string {
  const first =
    v.first === null
      ? ''
      : `; first at 0x${hex(v.first.address)} (record ${v.first.record}): read 0x${v.first.got.toString(16)},` +
        ` expected 0x${v.first.expected.toString(16)}`;
  return `verify: ${v.loads} loads checked, ${v.mismatches} mismatching bytes${first}`;
}

/** table aligns columns: text left, numbers right. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
