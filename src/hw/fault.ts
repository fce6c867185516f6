// Exceptions the machine raises to whoever drives it.

import { PagelabError } from '../errors.js';
import { hex, type LinAddr } from './addr.js';
import { describeErrorCode } from './paging.js';

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;
/** What an access does: read data, write data, or fetch an instruction. */
export type AccessKind = typeof ACCESS_READ | typeof ACCESS_WRITE | typeof ACCESS_FETCH;

export const ACCESS_NAMES: Readonly<Record<AccessKind, string>> = { 0: 'read', 1: 'write', 2: 'fetch' };

/** A page fault (#PF, vector 14): CR2 receives `linear` (SDM 4.7). */
export class PageFault extends PagelabError {
  constructor(
    readonly linear: LinAddr,
    readonly errorCode: number,
    readonly kind: AccessKind,
    readonly size: number,
    readonly cpl: 0 | 3,
  ) {
    super(
      `page fault at ${hex(linear)}: error code ${hex(errorCode, 1)} (${describeErrorCode(errorCode)}) ` +
        `on a ${size}-byte ${ACCESS_NAMES[kind]} at CPL ${cpl}`,
    );
  }
}

/** A general-protection fault from an invalid control-register write (SDM 2.5). */
export class GeneralProtection extends PagelabError {}
