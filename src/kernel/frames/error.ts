// FrameError: a rejected frame-allocator call (double free, a reserved or
// never-allocated frame, a misaligned address). The message names the
// physical address; the allocator's state is unchanged when it is thrown.

import { hex } from '../../hw/addr.js';
import { PagelabError } from '../../errors.js';

export class FrameError extends PagelabError {
  /** address is null for a call that names no frame (allocContiguous with a bad order). */
  constructor(
    readonly op: string,
    readonly address: number | null,
    readonly why: string,
  ) {
    super(address === null ? `${op}: ${why}` : `${op} of physical ${describe(address)}: ${why}`);
  }
}

/** describe formats an address for a message, whatever the caller passed. */
function describe(address: number): string {
  if (!Number.isFinite(address)) return String(address);
  if (Number.isInteger(address) && address >= 0) return hex(address, address > 0xffffffff ? 9 : 8);
  return String(address);
}
