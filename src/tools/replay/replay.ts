// One replay of a decoded trace under one TLB configuration: a fresh bare
// machine per run, timed around the hot loop only, best of `repeat` runs.

import { performance } from 'node:perf_hooks';
import { formatTlb, parseTlb, type TlbGeometry } from '../../hw/tlb.js';
import { BareModel, DEFAULT_REPLAY_RAM, type BareCounters } from './bare.js';
import type { Trace } from './trace.js';

export interface ReplayOptions {
  readonly ram?: number;
  readonly tlb?: TlbGeometry | string;
  readonly repeat?: number;
  /** Called between slices of the trace with records done and total (run 1 only). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The `--json` result: the counters plus timing. */
export interface ReplayResult extends BareCounters {
  tlb: string;
  ram: number;
  /** Wall-clock seconds of the fastest run's replay loop. */
  seconds: number;
  maccesses_per_s: number;
  /** CPU seconds of the replay loop (best run): steadier than wall time on a busy machine. */
  cpu_seconds: number;
  miss_rate: number;
  repeat: number;
}

/** Records per slice when reporting progress (the loop itself is the same). */
const SLICE = 1 << 22;

/** replay runs the bare model over the trace `repeat` times and reports the fastest run. */
export function replay(trace: Trace, options: ReplayOptions = {}): ReplayResult {
  const geometry = typeof options.tlb === 'string' ? parseTlb(options.tlb) : (options.tlb ?? parseTlb('fa:64'));
  const ram = options.ram ?? DEFAULT_REPLAY_RAM;
  const repeat = Math.max(1, options.repeat ?? 1);
  let best = Infinity;
  let bestCpu = Infinity;
  let counters: BareCounters | undefined;
  for (let r = 0; r < repeat; r++) {
    const model = new BareModel(ram, geometry);
    const cpu0 = process.cpuUsage();
    const seconds = timedRun(model, trace, r === 0 ? options.onProgress : undefined);
    const cpu = process.cpuUsage(cpu0);
    best = Math.min(best, seconds);
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e6);
    counters ??= model.counters();
  }
  const c = counters!;
  return {
    ...c,
    tlb: formatTlb(geometry),
    ram,
    seconds: best,
    maccesses_per_s: best > 0 ? trace.length / best / 1e6 : 0,
    cpu_seconds: bestCpu,
    miss_rate: c.records > 0 ? c.misses / c.records : 0,
    repeat,
  };
}

/** timedRun replays the whole trace on model, in slices when progress is wanted; returns seconds. */
function timedRun(model: BareModel, trace: Trace, onProgress?: (done: number, total: number) => void): number {
  if (onProgress === undefined) {
    const t0 = performance.now();
    model.run(trace);
    return (performance.now() - t0) / 1000;
  }
  let spent = 0;
  for (let s = 0; s < trace.length; s += SLICE) {
    const e = Math.min(trace.length, s + SLICE);
    const t0 = performance.now();
    model.run(trace, s, e);
    spent += performance.now() - t0;
    onProgress(e, trace.length);
  }
  return spent / 1000;
}
