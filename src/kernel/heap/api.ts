// The kernel heap's interface, shared by the K&R heap and the size-class
// layer on top of it: C's malloc family, with null for C's NULL.

import type { LinAddr } from '../../hw/addr.js';

export type HeapKind = 'kr' | 'slab';

export interface HeapStats {
  readonly kind: HeapKind;
  /** Bytes the live allocations asked for (for slab objects: their size class). */
  readonly bytesInUse: number;
  readonly blocksInUse: number;
  /** Bytes of the live blocks themselves: headers, rounding and the payloads. */
  readonly bytesAllocated: number;
  /** Free bytes backed by frames (free blocks, free slab slots). */
  readonly bytesFree: number;
  /** Free bytes whose frames were given back (holes inside free blocks). */
  readonly bytesUnmapped: number;
  readonly freeBlocks: number;
  readonly largestFree: number;
  readonly framesHeld: number;
  readonly peakFrames: number;
  readonly peakBytesInUse: number;
  /** External fragmentation: 1 - largest free block / all free bytes (0 with nothing free). */
  readonly fragmentation: number;
  readonly mallocs: number;
  readonly frees: number;
  readonly pagesMapped: number;
  readonly pagesUnmapped: number;
}

export interface KernelHeap {
  readonly kind: HeapKind;
  /** `size` bytes, 16-byte aligned; null when memory or the heap region is exhausted. */
  kmalloc(size: number): LinAddr | null;
  /** Frees what kmalloc & co. returned (null: nothing); misuse throws HeapError and changes nothing. */
  kfree(ptr: LinAddr | null): void;
  /** `count * size` zeroed bytes (null also on overflow). */
  kcalloc(count: number, size: number): LinAddr | null;
  /** Resizes in place when it can, else moves; null leaves the old block as it was. size 0 frees. */
  krealloc(ptr: LinAddr | null, size: number): LinAddr | null;
  /** `size` bytes at a multiple of `align` (a power of two). */
  kmallocAligned(size: number, align: number): LinAddr | null;
  stats(): HeapStats;
  /** Walks every structure in memory; returns the inconsistencies found (none: []). */
  check(): string[];
}
