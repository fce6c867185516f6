// FrameError: a rejected frame-allocator call (double free, a reserved or
// never-allocated frame, a misaligned address), or allocator metadata in RAM
// that fails a check (a corrupted free-list link, head, count...). The
// message names the physical address; `kind` (and for corruption
// `structure`) say what happened, for callers to match on. A rejected call
// leaves the allocator's state unchanged.

import { hex } from '../../hw/addr.js';
import { PagelabError } from '../../errors.js';

/**
 * - not-allocated: the bitmap's bit is clear (a double free or a frame never handed out: the bitmap cannot tell);
 * - double-free: the frame (or the block holding it) is already free;
 * - never-allocated: a usable frame the allocator has not handed out yet (list: beyond the frontier);
 * - reserved: a frame withheld at boot (`why` names the reason);
 * - not-ram: outside the type-1 regions of the memory map;
 * - bad-address: not a 32-bit physical address (negative, fractional, 4 GiB and up);
 * - misaligned: not aligned to a frame, or to the block of the order given;
 * - wrong-order: a buddy block freed with another order than it was allocated with;
 * - inside-block: a frame inside a buddy block, not its start;
 * - bad-order: an order outside 0..MAX_ORDER;
 * - unsupported: the list strategy asked for a block of more than one frame;
 * - corrupted: the allocator's metadata in RAM fails a check (`structure` names which).
 */
export type FrameErrorKind =
  | 'not-allocated'
  | 'double-free'
  | 'never-allocated'
  | 'reserved'
  | 'not-ram'
  | 'bad-address'
  | 'misaligned'
  | 'wrong-order'
  | 'inside-block'
  | 'bad-order'
  | 'unsupported'
  | 'corrupted';

/** The piece of allocator metadata in RAM a 'corrupted' error is about. */
export type FrameStructure =
  | 'free count'
  | 'range table'
  | 'bitmap hint'
  | 'bitmap'
  | 'free-list head'
  | 'free-list link'
  | 'frontier'
  | 'buddy list'
  | 'buddy state';

export class FrameError extends PagelabError {
  /**
   * `address` (the frame) is null for a call that names no frame (allocContiguous with a bad order);
   * `structure` is set for kind 'corrupted'.
   */
  constructor(
    readonly kind: FrameErrorKind,
    readonly op: string,
    readonly address: number | null,
    readonly why: string,
    readonly structure: FrameStructure | null = null,
  ) {
    super(address === null ? `${op}: ${why}` : `${op} of physical ${describe(address)}: ${why}`);
  }

  /** The frame the error is about (the same as `address`). */
  get frame(): number | null {
    return this.address;
  }
}

/** corrupted builds the error for metadata in RAM that fails a check: "<structure> corrupted (...)". */
export function corrupted(op: string, at: number | null, structure: FrameStructure, detail: string): FrameError {
  return new FrameError('corrupted', op, at, `${structure} corrupted (${detail})`, structure);
}

/** describe formats an address for a message, whatever the caller passed. */
function describe(address: number): string {
  if (!Number.isFinite(address)) return String(address);
  if (Number.isInteger(address) && address >= 0) return hex(address, address > 0xffffffff ? 9 : 8);
  return String(address);
}
