// A process's statistics as its descriptor in RAM holds them.

import type { KillReason, ProcessStats, ProcState } from './api.js';
import { kread, read64, type ProcCtx } from './ctx.js';
import {
  P_ACCESSES_LO,
  P_EXIT_CODE,
  P_FAULTS,
  P_KILL_ADDR,
  P_KILL_CODE,
  P_KILL_REASON,
  P_MAX_RESIDENT,
  P_PAGE_INS,
  P_PARENT,
  P_RESIDENT,
  P_STATE,
  STATE_EXITED,
  STATE_KILLED,
} from './layout.js';

/** Kill reasons by code (P_KILL_REASON holds index + 1). */
export const KILL_REASONS: readonly KillReason[] = [
  'kernel address',
  'no region',
  'stack limit',
  'write to read-only',
  'no access',
  'out of memory',
];

/** readStats reads a descriptor's statistics; `extra` accesses not yet folded in (the running process's). */
export function readStats(k: ProcCtx, desc: number, pid: number, killRegion: string, extra = 0): ProcessStats {
  const f = (o: number): number => kread(k, desc + o);
  const s = f(P_STATE);
  const state: ProcState = s === STATE_EXITED ? 'exited' : s === STATE_KILLED ? 'killed' : 'runnable';
  return {
    pid,
    parent: f(P_PARENT),
    state,
    exitCode: state === 'exited' ? f(P_EXIT_CODE) : null,
    killed:
      state === 'killed'
        ? {
            address: f(P_KILL_ADDR),
            errorCode: f(P_KILL_CODE),
            reason: KILL_REASONS[f(P_KILL_REASON) - 1] ?? 'no region',
            region: killRegion,
          }
        : null,
    accesses: read64(k, desc + P_ACCESSES_LO) + extra,
    faults: {
      zero: f(P_FAULTS),
      file: f(P_FAULTS + 4),
      stack: f(P_FAULTS + 8),
      cow: f(P_FAULTS + 12),
      protection: f(P_FAULTS + 16),
    },
    pageIns: f(P_PAGE_INS),
    resident: state === 'runnable' ? f(P_RESIDENT) : 0,
    maxResident: f(P_MAX_RESIDENT),
  };
}
