// Per-frame reference counts (xv6's COW lab, Linux's struct page _mapcount):
// a u32 per physical frame, in frames taken from the frame allocator at
// bring-up and mapped in the kernel half at REFCOUNT_BASE. A count says how
// many user PTEs map the frame; 0 for a frame no process maps.

import { hex, PAGE_SIZE, type LinAddr, type PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import { PTE_RW } from '../../hw/paging.js';
import type { FrameAllocator } from '../frames/api.js';
import type { KernelVm } from '../vm/kvm.js';
import { ProcError } from './api.js';
import { REFCOUNT_BASE } from './layout.js';

export class RefCounts {
  private constructor(
    private readonly machine: Machine,
    /** Frames covered: physical addresses below frames * PAGE_SIZE. */
    readonly count: number,
    readonly arrayFrames: number,
  ) {}

  /** create maps a zeroed array of `count` u32s at REFCOUNT_BASE; throws out-of-memory (and gives back) if short. */
  static create(vm: KernelVm, frames: FrameAllocator, count: number): RefCounts {
    const pages = Math.ceil((count * 4) / PAGE_SIZE);
    const taken: PhysAddr[] = [];
    for (let i = 0; i < pages; i++) {
      const f = frames.alloc({ zero: true });
      if (f === null) {
        for (let j = 0; j < i; j++) {
          vm.kernel.unmap((REFCOUNT_BASE + j * PAGE_SIZE) as LinAddr).flush.flush();
          frames.free(taken[j]);
        }
        throw new ProcError('out-of-memory', `out of memory for the reference-count array (${pages} frames)`);
      }
      taken.push(f);
      vm.kernel.map((REFCOUNT_BASE + i * PAGE_SIZE) as LinAddr, f, PTE_RW).flush();
    }
    return new RefCounts(vm.core.machine, count, pages);
  }

  /** at is the linear address of a frame's count; a frame past the array is a kernel bug. */
  private at(frame: number): number {
    const pfn = Math.floor(frame / PAGE_SIZE);
    if (frame % PAGE_SIZE !== 0 || pfn >= this.count)
      throw new ProcError('corrupted', `reference count of ${hex(frame)}: not a frame the array covers`);
    return REFCOUNT_BASE + pfn * 4;
  }

  /** get reads a frame's count. */
  get(frame: number): number {
    return this.machine.read32(this.at(frame));
  }

  /** set writes a frame's count. */
  set(frame: number, n: number): void {
    this.machine.write32(this.at(frame), n >>> 0);
  }

  /** inc adds a mapping; returns the new count. */
  inc(frame: number): number {
    const n = this.get(frame) + 1;
    this.set(frame, n);
    return n;
  }

  /** dec removes a mapping and returns the new count; a count already 0 is corruption (nothing changes). */
  dec(frame: number): number {
    const n = this.get(frame);
    if (n === 0) throw new ProcError('corrupted', `reference count of frame ${hex(frame)} is 0, but a PTE maps it`);
    this.set(frame, n - 1);
    return n - 1;
  }
}
