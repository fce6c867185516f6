// Misuse of the kernel heap, reported with the address involved. A call that
// throws HeapError has changed nothing: every check runs before any write.

import { hex } from '../../hw/addr.js';
import { PagelabError } from '../../errors.js';

/**
 * - double-free: the pointer's block is already free;
 * - not-allocated: the pointer is not one kmalloc returned (inside a block, misaligned, in free memory);
 * - outside-heap: the pointer is not in the heap's mapped arena at all;
 * - corrupt-header: a block header, slab header, class descriptor or control block fails its check
 *   (overwritten, e.g. by a buffer overrun, or forged);
 * - overrun: the red zone after a slab object is overwritten (the object's user wrote past its end).
 */
export type HeapErrorKind = 'double-free' | 'not-allocated' | 'outside-heap' | 'corrupt-header' | 'overrun';

export class HeapError extends PagelabError {
  constructor(
    readonly kind: HeapErrorKind,
    readonly address: number,
    detail: string,
  ) {
    super(
      `heap: ${kind} at ${Number.isInteger(address) && address >= 0 && address < 2 ** 32 ? hex(address) : String(address)}: ${detail}`,
    );
  }
}
