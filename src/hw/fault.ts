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

/**
 * What a GeneralProtection is about:
 * - pg-without-pe: MOV to CR0 with PG=1 and PE=0 (SDM 2.5);
 * - efer-unmodelled: WRMSR to IA32_EFER setting a bit other than NXE (long mode is not modelled);
 * - pdpte-reserved: MOV to CR3 in PAE mode with a present PDPTE that sets reserved bits (SDM 4.4.1).
 */
export type GeneralProtectionKind = 'pg-without-pe' | 'efer-unmodelled' | 'pdpte-reserved';

/** A general-protection fault (#GP(0)) from an invalid control-register write; `value` is the value written. */
export class GeneralProtection extends PagelabError {
  constructor(
    readonly kind: GeneralProtectionKind,
    readonly value: number,
    message: string,
  ) {
    super(message);
  }
}
