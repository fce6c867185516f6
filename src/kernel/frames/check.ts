// Self-checks in the spirit of JOS's check_page_alloc: allocate every free
// frame, check they are distinct, usable and outside every reserved range,
// that out-of-memory is clean, free them all and find the counts restored;
// for the buddy allocator, that no two free blocks are buddies at one order,
// that everything merges back, and that contiguous blocks are aligned.

import { PAGE_SIZE, hex, type PhysAddr, physOffset } from '../../hw/addr.js';
import type { FrameAllocator } from './api.js';
import { POISON_BYTE, MAX_ORDER } from './base.js';
import { BuddyAllocator } from './buddy.js';
import { FrameError } from './error.js';
import { findRange } from './regions.js';
import type { TempSlot } from '../vm/slot.js';

export interface CheckOptions {
  /** Write a tag into every allocated frame and read them all back (JOS's memset). Default: usable <= 32768. */
  readonly touch?: boolean;
}

export interface CheckResult {
  /** Frames handed out by the allocate-everything pass. */
  readonly allocated: number;
  /** Empty when every check held. */
  readonly problems: string[];
}

/** checkFrameAllocator runs the self-checks; the allocator ends in the state it started in (counts and free set). */
export function checkFrameAllocator(alloc: FrameAllocator, slot: TempSlot, options: CheckOptions = {}): CheckResult {
  const problems = alloc.audit().map((p) => `before: ${p}`);
  const before = alloc.stats();
  const touch = options.touch ?? before.usable <= 32768;
  const blocksBefore = alloc instanceof BuddyAllocator ? canonical(alloc.freeBlocks()) : '';
  const frames = allocateEverything(alloc, problems);
  if (frames.length !== before.free) problems.push(`allocated ${frames.length} frames, ${before.free} were free`);
  problems.push(...checkFrames(alloc, frames));
  if (touch) problems.push(...touchFrames(slot, frames));
  problems.push(...alloc.audit().map((p) => `when full: ${p}`));
  for (let i = frames.length - 1; i >= 0; i--) alloc.free(frames[i]);
  if (alloc.options.poison && frames.length > 0)
    problems.push(...checkPoison(slot, frames[0], alloc.strategy === 'bitmap' ? 0 : 8));
  const after = alloc.stats();
  if (after.free !== before.free || after.used !== before.used)
    problems.push(
      `after freeing all: free ${after.free}, used ${after.used}; before: free ${before.free}, used ${before.used}`,
    );
  problems.push(...alloc.audit().map((p) => `after: ${p}`));
  if (alloc instanceof BuddyAllocator) {
    if (canonical(alloc.freeBlocks()) !== blocksBefore)
      problems.push('buddy: the free blocks did not merge back to the boot-time blocks');
    problems.push(...checkContiguous(alloc));
  }
  return { allocated: frames.length, problems };
}

/** allocateEverything calls alloc() until it returns null, then checks out-of-memory changes nothing. */
function allocateEverything(alloc: FrameAllocator, problems: string[]): PhysAddr[] {
  const frames: PhysAddr[] = [];
  const usable = alloc.stats().usable;
  try {
    for (let f = alloc.alloc(); f !== null; f = alloc.alloc()) {
      frames.push(f);
      if (frames.length > usable) {
        problems.push('alloc() handed out more frames than are usable');
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof FrameError && e.kind === 'corrupted')) throw e;
    problems.push(e.message); // the allocator caught its metadata corrupted: a finding, not a crash
    return frames;
  }
  const full = alloc.stats();
  if (alloc.alloc() !== null || alloc.stats().free !== 0 || alloc.stats().used !== full.used)
    problems.push('out of memory is not clean');
  return frames;
}

/** checkFrames: each frame aligned, distinct, inside a usable range, outside every reserved range and the metadata. */
function checkFrames(alloc: FrameAllocator, frames: readonly PhysAddr[]): string[] {
  const out: string[] = [];
  const seen = new Set<number>();
  const meta = alloc.metadata;
  for (const f of frames) {
    const pfn = f / PAGE_SIZE;
    if (f % PAGE_SIZE !== 0) out.push(`${hex(f)} is not frame-aligned`);
    if (seen.has(f)) out.push(`${hex(f)} handed out twice`);
    seen.add(f);
    if (findRange(alloc.regions.usable, pfn) < 0) out.push(`${hex(f)} is not in a usable range`);
    const r = alloc.regions.reserved.find((x) => x.start <= pfn && pfn < x.end);
    if (r !== undefined) out.push(`${hex(f)} is reserved (${r.reason})`);
    if (f >= meta.base && f < meta.base + meta.frames * PAGE_SIZE)
      out.push(`${hex(f)} is the allocator's own metadata`);
    if (pfn === 0) out.push('frame 0 handed out');
  }
  return out;
}

/** touchFrames writes each frame's address into its first and last words, then reads them all back. */
function touchFrames(slot: TempSlot, frames: readonly PhysAddr[]): string[] {
  for (const f of frames) {
    slot.write32(f, f);
    slot.write32(physOffset(f, 4092), ~f >>> 0);
  }
  const out: string[] = [];
  for (const f of frames) {
    if (slot.read32(f) !== f || slot.read32(physOffset(f, 4092)) !== ~f >>> 0)
      out.push(`${hex(f)} does not hold what was written (aliased or not RAM)`);
  }
  return out;
}

/** checkPoison: a freed frame holds POISON_BYTE everywhere but its first `skip` bytes (the list links). */
function checkPoison(slot: TempSlot, frame: PhysAddr, skip: number): string[] {
  const word = POISON_BYTE * 0x01010101;
  for (let off = skip; off < PAGE_SIZE; off += 4) {
    if (slot.read32(physOffset(frame, off)) !== word)
      return [`freed frame ${hex(frame)} is not poisoned at offset ${off}`];
  }
  return [];
}

/** checkContiguous: per order, allocContiguous gives an aligned block of usable frames (or null), freed cleanly. */
function checkContiguous(alloc: FrameAllocator): string[] {
  const out: string[] = [];
  const free = alloc.stats().free;
  for (let k = 0; k <= MAX_ORDER; k++) {
    const b = alloc.allocContiguous(k);
    if (b === null) continue;
    if (b % (PAGE_SIZE * 2 ** k) !== 0) out.push(`order-${k} block ${hex(b)} is misaligned`);
    const r = findRange(alloc.regions.usable, b / PAGE_SIZE);
    if (r < 0 || findRange(alloc.regions.usable, b / PAGE_SIZE + 2 ** k - 1) !== r)
      out.push(`order-${k} block ${hex(b)} is not wholly usable`);
    alloc.freeContiguous(b, k);
  }
  if (alloc.stats().free !== free) out.push('contiguous allocations did not give back every frame');
  return out;
}

/** canonical lists free blocks as a sorted string, to compare two moments. */
function canonical(blocks: number[][]): string {
  return blocks.map((list) => [...list].sort((a, b) => a - b).join(',')).join(';');
}
