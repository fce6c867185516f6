// The heap's statistics for the boot log and `pagelab boot --json`, and the
// short demo the boot runs: a few allocations and frees, then the statistics.

import { hex, type LinAddr } from '../../hw/addr.js';
import type { HeapStats, KernelHeap } from './api.js';

export interface HeapReport {
  readonly lines: string[];
  readonly json: HeapStats;
}

export interface HeapDemoStep {
  readonly op: string;
  readonly ptr: number | null;
  readonly framesHeld: number;
}

/** heapReport formats a heap's statistics as boot-log lines and as JSON (the `heap` key). */
export function heapReport(heap: KernelHeap): HeapReport {
  const s = heap.stats();
  const kind = s.kind === 'kr' ? 'K&R free list' : 'size classes over the K&R free list';
  const lines = [
    `heap (${kind}): ${s.blocksInUse} block(s) in use holding ${s.bytesInUse} bytes (${s.bytesAllocated} with headers and rounding)`,
    `heap free: ${s.bytesFree} bytes mapped in ${s.freeBlocks} free block(s) (largest ${s.largestFree}), ${s.bytesUnmapped} bytes unmapped in holes, fragmentation ${(s.fragmentation * 100).toFixed(1)}%`,
    `heap frames: ${s.framesHeld} held (peak ${s.peakFrames}); ${s.pagesMapped} page(s) mapped, ${s.pagesUnmapped} given back; ${s.mallocs} allocation(s), ${s.frees} free(s)`,
  ];
  return { lines, json: { ...s, fragmentation: Math.round(s.fragmentation * 10000) / 10000 } };
}

/** heapDemo makes a few allocations and frees (one big enough to give frames back) and reports the heap. */
export function heapDemo(heap: KernelHeap): { lines: string[]; json: HeapStats & { steps: HeapDemoStep[] } } {
  const steps: HeapDemoStep[] = [];
  const note = (op: string, ptr: LinAddr | null): LinAddr | null => {
    steps.push({ op, ptr, framesHeld: heap.stats().framesHeld });
    return ptr;
  };
  const name = note('kmalloc(100)', heap.kmalloc(100));
  const table = note('kcalloc(16, 32)', heap.kcalloc(16, 32));
  note('kmallocAligned(4096, 4096)', heap.kmallocAligned(4096, 4096));
  const big = note('kmalloc(65536)', heap.kmalloc(65536));
  heap.kfree(big);
  note('kfree(the 64 KiB block)', null);
  note('krealloc(the 100-byte block, 300)', heap.krealloc(name, 300));
  heap.kfree(table);
  note('kfree(the kcalloc block)', null);
  const report = heapReport(heap);
  const shown = steps.map(
    (s) => `  ${s.op.padEnd(36)} ${(s.ptr === null ? '' : hex(s.ptr)).padEnd(10)}  frames held: ${s.framesHeld}`,
  );
  return { lines: ['heap demo:', ...shown, ...report.lines], json: { ...report.json, steps } };
}
