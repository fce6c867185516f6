// Allocator bring-up shared by the strategies: size the metadata, take it
// from the early allocator (inside the kernel window), recompute the free
// frames with the metadata withheld, and write the header and range table.
//
// Metadata layout in RAM (struct frame_allocator, little-endian u32s):
//   0x00 magic 'PFA1'   0x04 kind (1 bitmap, 2 list, 3 buddy)   strategy words from H_STRATEGY (0x20..0x7F)
//   0x08 max_pfn        0x0C nranges       0x10 map (physical)   0x14 map bytes
//   0x18 nfree (free frames: decides whether the bitmap scans at all, checked on every alloc and free)
//   0x1C nusable (frames the allocator manages: the sum of the ranges)
//   0x80 ranges[nranges] = { u32 start_pfn; u32 end_pfn }  (the usable frames, sorted; nranges <= capacity)
//   map: the per-frame map, from the next frame boundary (bitmap, state bits or order bytes).
// The allocator's JS object holds what a C kernel holds in a static pointer or
// a compile-time constant: the header's and the map's addresses, the range
// table's capacity. Everything that changes is read from RAM where it is used.

import { PagelabError } from '../../errors.js';
import { PAGE_SIZE, type PhysAddr, physOffset } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import type { KernelCore } from '../vm/core.js';
import type { FrameAllocatorOptions, FrameMetadata } from './api.js';
import { computeRegions, type FrameRegions } from './regions.js';

export const META_MAGIC = 0x31414650; // 'PFA1'
export const H_MAGIC = 0x00;
export const H_KIND = 0x04;
export const H_MAXPFN = 0x08;
export const H_NRANGES = 0x0c;
export const H_MAP = 0x10;
export const H_MAPBYTES = 0x14;
export const H_NFREE = 0x18;
export const H_NUSABLE = 0x1c;
/** Strategy-specific header words start here. */
export const H_STRATEGY = 0x20;
export const H_RANGES = 0x80;
export const METADATA_REASON = 'frame allocator metadata';

/** Everything a strategy needs to start: the machine, the slot, the regions and its metadata block. */
export interface FrameSetup {
  readonly core: KernelCore;
  readonly machine: Machine;
  readonly regions: FrameRegions;
  readonly metadata: FrameMetadata;
  /** Linear address of the header (KERNEL_BASE + metadata.base) and of the map. */
  readonly headerLinear: number;
  readonly mapLinear: number;
  /** How many ranges the header's table has room for. */
  readonly rangeCapacity: number;
}

/** prepare allocates and initialises the metadata block; mapBytes sizes the per-frame map for maxPfn frames. */
export function prepare(
  core: KernelCore,
  options: Required<FrameAllocatorOptions>,
  mapBytes: (maxPfn: number) => number,
): FrameSetup {
  const before = computeRegions(core.info, core.early.taken, options.lowMemory);
  const maxRanges = before.usable.length + 1; // one more cut splits at most one range
  const headerBytes = H_RANGES + 8 * maxRanges;
  const headerFrames = Math.ceil(headerBytes / PAGE_SIZE);
  const map = Math.ceil(mapBytes(before.maxPfn) / 4) * 4;
  const frames = headerFrames + Math.ceil(map / PAGE_SIZE);
  const base = core.early.alloc(frames, METADATA_REASON);
  const regions = computeRegions(core.info, core.early.taken, options.lowMemory);
  if (regions.usable.length > maxRanges)
    throw new PagelabError('frame allocator: metadata split more ranges than planned');
  const headerLinear = core.window.p2v(base);
  const setup: FrameSetup = {
    core,
    machine: core.machine,
    regions,
    headerLinear,
    mapLinear: headerLinear + headerFrames * PAGE_SIZE,
    rangeCapacity: Math.floor((headerFrames * PAGE_SIZE - H_RANGES) / 8),
    metadata: { base, frames, bytes: H_RANGES + 8 * regions.usable.length + map },
  };
  writeHeader(setup, physOffset(base, headerFrames * PAGE_SIZE), map);
  return setup;
}

/** writeHeader stores the common header fields and the usable-range table. */
function writeHeader(s: FrameSetup, mapPhys: PhysAddr, mapBytes: number): void {
  const m = s.machine;
  const h = s.headerLinear;
  for (let off = 0; off < H_RANGES; off += 4) m.write32(h + off, 0);
  m.write32(h + H_MAGIC, META_MAGIC);
  m.write32(h + H_MAXPFN, s.regions.maxPfn);
  m.write32(h + H_NRANGES, s.regions.usable.length);
  m.write32(h + H_MAP, mapPhys);
  m.write32(h + H_MAPBYTES, mapBytes);
  const usable = s.regions.usable.reduce((n, r) => n + r.end - r.start, 0);
  m.write32(h + H_NFREE, usable);
  m.write32(h + H_NUSABLE, usable);
  s.regions.usable.forEach((r, i) => {
    m.write32(h + H_RANGES + 8 * i, r.start);
    m.write32(h + H_RANGES + 8 * i + 4, r.end);
  });
}
