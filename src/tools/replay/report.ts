// Human-readable output of a replay and of a sweep.

import type { ReplayResult } from './replay.js';
import type { Trace } from './trace.js';
import { formatSize } from '../args.js';

const num = (n: number): string => n.toLocaleString('en-US');
const pct = (r: number): string => `${(r * 100).toPrecision(3)}%`;

/** describeTrace is the one-line description of a decoded trace. */
export function describeTrace(path: string, t: Trace): string {
  const c = t.counts;
  let s = `${path}: ${num(t.length)} records (I ${num(c.I)}, L ${num(c.L)}, S ${num(c.S)}, M ${num(c.M)})`;
  if (t.commentLines > 0) s += `, ${num(t.commentLines)} valgrind lines skipped`;
  if (t.badLines > 0) s += `, ${num(t.badLines)} malformed lines skipped (first: line ${t.firstBadLine})`;
  return s;
}

/** summary is the default output of `pagelab replay`. */
export function summary(path: string, t: Trace, r: ReplayResult): string {
  return (
    [
      `trace         ${describeTrace(path, t)}`,
      `model         bare, RAM ${formatSize(r.ram)}, TLB ${r.tlb}`,
      `TLB           ${num(r.hits)} hits, ${num(r.misses)} misses (miss rate ${pct(r.miss_rate)}), ${num(r.walks)} walks, ${num(r.dirty_sets)} dirty sets`,
      `paging        ${num(r.demand_faults)} demand faults, ${num(r.page_tables)} page tables, ${num(r.frames_used)} frames used, ${num(r.dirty_pages)} dirty pages`,
      `phys_hash     ${r.phys_hash}`,
      `replay time   ${r.seconds.toFixed(3)} s, ${r.maccesses_per_s.toFixed(1)} M accesses/s${r.repeat > 1 ? ` (best of ${r.repeat})` : ''}`,
    ].join('\n') + '\n'
  );
}

/** sweepTable lays out one row per configuration. */
export function sweepTable(results: readonly ReplayResult[]): string {
  const head = ['tlb', 'hits', 'misses', 'miss rate', 'walks', 'dirty sets', 'phys_hash', 'M acc/s'];
  const rows = results.map((r) => [
    r.tlb,
    num(r.hits),
    num(r.misses),
    pct(r.miss_rate),
    num(r.walks),
    num(r.dirty_sets),
    r.phys_hash,
    r.maccesses_per_s.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]): string =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n') + '\n';
}
