// What a slice of the boot log changed: the net effect on each written
// address (first old value, last new value, unchanged ones dropped) gathered
// into runs of consecutive words, the bulk copies and fills, the frames
// touched, and the register and TLB operations.

import type { BootEvent } from './recorder.js';

/** A run of consecutive writes of one size: entries [addr, addr + count*size). */
export interface WriteRun {
  readonly addr: number;
  readonly size: number;
  readonly entries: readonly { readonly addr: number; readonly old: number; readonly value: number }[];
}

export interface StepChanges {
  readonly runs: readonly WriteRun[];
  readonly bulks: readonly { readonly addr: number; readonly length: number; readonly fill: number | null }[];
  readonly frames: number;
  readonly ops: readonly string[];
}

/** netWrites folds the writes into one change per address, dropping those that end where they began. */
function netWrites(events: readonly BootEvent[]): { addr: number; size: number; old: number; value: number }[] {
  const net = new Map<number, { addr: number; size: number; old: number; value: number }>();
  for (const e of events) {
    if (e.kind !== 'write') continue;
    const prev = net.get(e.addr);
    if (prev === undefined || prev.size !== e.size)
      net.set(e.addr, { addr: e.addr, size: e.size, old: e.old, value: e.value });
    else prev.value = e.value;
  }
  return [...net.values()].filter((c) => c.old !== c.value).sort((a, b) => a.addr - b.addr);
}

/** runsOf groups sorted changes into runs of adjacent addresses of the same size. */
function runsOf(changes: ReturnType<typeof netWrites>): WriteRun[] {
  const runs: { addr: number; size: number; entries: { addr: number; old: number; value: number }[] }[] = [];
  for (const c of changes) {
    const last = runs.at(-1);
    const end = last === undefined ? -1 : last.entries[last.entries.length - 1].addr + last.size;
    if (last !== undefined && last.size === c.size && c.addr === end) last.entries.push(c);
    else runs.push({ addr: c.addr, size: c.size, entries: [c] });
  }
  return runs;
}

/** opText names a register or TLB operation. */
function opText(e: BootEvent): string | null {
  const h = (v: number): string => '0x' + (v >>> 0).toString(16).toUpperCase().padStart(8, '0');
  if (e.kind === 'cr') return `${e.reg.toUpperCase()} ${h(e.old)} -> ${h(e.value)}`;
  if (e.kind === 'invlpg') return `INVLPG ${h(e.addr)}`;
  if (e.kind === 'fetch') return `fetch at ${h(e.addr)}`;
  return null;
}

/** stepChanges summarises a step's events. */
export function stepChanges(events: readonly BootEvent[]): StepChanges {
  const frames = new Set<number>();
  const bulks: { addr: number; length: number; fill: number | null }[] = [];
  for (const e of events) {
    if (e.kind === 'write') frames.add(Math.floor(e.addr / 4096));
    if (e.kind !== 'bulk' || e.length === 0) continue;
    for (let f = Math.floor(e.addr / 4096); f <= Math.floor((e.addr + e.length - 1) / 4096); f++) frames.add(f);
    const last = bulks.at(-1);
    if (last !== undefined && last.fill === e.fill && last.addr + last.length === e.addr) last.length += e.length;
    else bulks.push({ addr: e.addr, length: e.length, fill: e.fill });
  }
  const ops = events.map(opText).filter((t): t is string => t !== null);
  return { runs: runsOf(netWrites(events)), bulks, frames: frames.size, ops };
}
