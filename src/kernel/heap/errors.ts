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
 * - overrun: the red zone after a slab object is overwritten (the object's user wrote past its end);
 * - bad-argument: a size, count or alignment no call accepts (not a whole number, not a power of two...);
 * - no-memory: no frame, or no mapping, for a heap's control page when it is set up;
 * - no-heap: attach found no heap's control block at the address given.
 */
export type HeapErrorKind =
  | 'double-free'
  | 'not-allocated'
  | 'outside-heap'
  | 'corrupt-header'
  | 'overrun'
  | 'bad-argument'
  | 'no-memory'
  | 'no-heap';

/** A rejected heap call; `address` is the pointer or header it is about (null for a bad argument). */
export class HeapError extends PagelabError {
  constructor(
    readonly kind: HeapErrorKind,
    readonly address: number | null,
    detail: string,
  ) {
    super(address === null ? `heap: ${kind}: ${detail}` : `heap: ${kind} at ${describe(address)}: ${detail}`);
  }
}

/** describe formats an address for a message, whatever the caller passed. */
function describe(address: number): string {
  return Number.isInteger(address) && address >= 0 && address < 2 ** 32 ? hex(address) : String(address);
}
