// What every part of the process kernel works with: the machine and the
// memory manager under it, the reference counts, the process table, the
// "disk" of files, the totals in RAM and the event hook.

import type { Machine } from '../../hw/machine.js';
import type { FrameAllocator } from '../frames/api.js';
import type { KernelHeap } from '../heap/api.js';
import type { KernelVm } from '../vm/kvm.js';
import type { AddressSpace } from '../vm/space.js';
import type { ProcessEvent, ProcessStats } from './api.js';
import type { RefCounts } from './refcount.js';
import type { Pager } from '../swap/pager.js';
import type { ProcTable } from './proctable.js';

/** An open process: its descriptor's address and its address-space handle (checked against RAM on lookup). */
export interface ProcHandle {
  readonly pid: number;
  readonly desc: number;
  readonly space: AddressSpace;
}

export interface ProcCtx {
  readonly machine: Machine;
  readonly vm: KernelVm;
  readonly frames: FrameAllocator;
  readonly heap: KernelHeap;
  readonly refs: RefCounts;
  readonly table: ProcTable;
  /** The files regions read from, by id (the disk: not kernel memory). */
  readonly files: Uint8Array[];
  /** struct proc_globals (kernel linear). */
  readonly globals: number;
  /** Accounting records of ended processes. */
  readonly ended: Map<number, ProcessStats>;
  onEvent: ((e: ProcessEvent) => void) | null;
  /** The frame budget and swap (null: no budget, frames until RAM runs out). */
  pager: Pager | null;
}

/** kread reads a u32 of kernel memory (CPL 0, through the MMU). */
export function kread(k: ProcCtx, linear: number): number {
  return k.machine.read32(linear);
}

/** kwrite writes a u32 of kernel memory (CPL 0, through the MMU). */
export function kwrite(k: ProcCtx, linear: number, v: number): void {
  k.machine.write32(linear, v >>> 0);
}

/** kadd adds to a u32 counter in kernel memory and returns the new value. */
export function kadd(k: ProcCtx, linear: number, delta: number): number {
  const v = (k.machine.read32(linear) + delta) >>> 0;
  k.machine.write32(linear, v);
  return v;
}

/** kadd64 adds to a u64 counter (two u32 words, low first). */
export function kadd64(k: ProcCtx, linear: number, delta: number): void {
  const total = read64(k, linear) + delta;
  k.machine.write32(linear, total % 0x1_0000_0000);
  k.machine.write32(linear + 4, Math.floor(total / 0x1_0000_0000));
}

/** read64 reads a u64 counter. */
export function read64(k: ProcCtx, linear: number): number {
  return k.machine.read32(linear) + k.machine.read32(linear + 4) * 0x1_0000_0000;
}

/** emit calls the event hook if there is one. */
export function emit(k: ProcCtx, e: ProcessEvent): void {
  if (k.onEvent !== null) k.onEvent(e);
}
