// Choosing the kernel heap: the K&R heap alone, or the size-class layer on top of it.

import type { HeapKind, KernelHeap } from './api.js';
import type { HeapBackend } from './backend.js';
import { KrHeap } from './kr.js';
import { HEAP_RETAIN_FRAMES } from './layout.js';
import { SlabHeap, type SlabOptions } from './slab.js';
import { SLAB_CLASSES, SLAB_KEEP_EMPTY } from './slabclass.js';

export const HEAP_KINDS: readonly HeapKind[] = ['kr', 'slab'];

export type HeapOptions = SlabOptions;

/** createHeap sets up a kernel heap of the given kind in the heap region (options: the slab layer's red zones). */
export function createHeap(backend: HeapBackend, kind: HeapKind = 'kr', options: HeapOptions = {}): KernelHeap {
  const kr = KrHeap.create(backend);
  if (kind === 'kr') return kr;
  return SlabHeap.create(backend, kr, options);
}

/** retainedFrames is the most frames a heap of this kind keeps once everything is freed. */
export function retainedFrames(kind: HeapKind): number {
  return kind === 'kr' ? HEAP_RETAIN_FRAMES : HEAP_RETAIN_FRAMES + 1 + SLAB_KEEP_EMPTY * SLAB_CLASSES.length;
}
