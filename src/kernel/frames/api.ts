// The frame allocator interface the kernel codes against (what the three
// strategies implement and what callers see). The factory that builds one is
// allocator.ts: imports run one way, strategies -> api, factory -> strategies.

import type { PhysAddr } from '../../hw/addr.js';
import type { FrameRegions, LowMemoryPolicy } from './regions.js';

export type FrameStrategy = 'bitmap' | 'list' | 'buddy';
export const FRAME_STRATEGIES: readonly FrameStrategy[] = ['bitmap', 'list', 'buddy'];

export interface FrameAllocatorOptions {
  /** The low 1 MiB: 'use' (default) or 'reserve'. */
  readonly lowMemory?: LowMemoryPolicy;
  /** Fill every freed frame with POISON_BYTE (link words excepted). Default off; on in tests. */
  readonly poison?: boolean;
}

export interface AllocOptions {
  /** Zero the frame(s) before returning them. */
  readonly zero?: boolean;
}

export interface FrameStats {
  /** Whole frames in type-1 memory-map regions. */
  readonly total: number;
  /** Frames the allocator manages (total minus reserved). */
  readonly usable: number;
  readonly free: number;
  readonly used: number;
  /** Withheld frames per reason. */
  readonly reserved: Readonly<Record<string, number>>;
}

/** Where the allocator's metadata lives: frames from the early allocator, inside the kernel window. */
export interface FrameMetadata {
  readonly base: PhysAddr;
  readonly frames: number;
  /** Bytes actually used (header, range table, map). */
  readonly bytes: number;
}

export interface FrameAllocator {
  readonly strategy: FrameStrategy;
  readonly regions: FrameRegions;
  readonly metadata: FrameMetadata;
  readonly options: Required<FrameAllocatorOptions>;
  /** One frame, or null when no frame is free (nothing changes then). */
  alloc(opts?: AllocOptions): PhysAddr | null;
  /** Returns a frame; throws FrameError naming the address (state unchanged) if it is not an allocated frame. */
  free(frame: PhysAddr): void;
  /** 2^order contiguous frames aligned to their size (order 0..10), or null. The list strategy: order 0 only. */
  allocContiguous(order: number, opts?: AllocOptions): PhysAddr | null;
  /** Returns a block from allocContiguous with the same order. */
  freeContiguous(frame: PhysAddr, order: number): void;
  /** Whether the frame at this address is currently free (false for reserved or non-RAM). */
  isFree(frame: PhysAddr): boolean;
  stats(): FrameStats;
  /** Compares the JS accelerators with the state in RAM and checks the strategy's invariants; [] when all hold. */
  audit(): string[];
}
