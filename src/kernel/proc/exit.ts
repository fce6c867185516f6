// Ending a process (exit_group, or a kill): every user page unmapped (each
// frame's reference dropped, freed at 0; page tables freed with their last
// entry), the region list freed, the address space destroyed (directory and
// count frame back), the table record removed and the descriptor freed. An
// accounting record of its statistics is kept for the driver.

import { FRAME_MASK } from '../../hw/paging.js';
import type { LinAddr } from '../../hw/addr.js';
import type { KillReport } from './api.js';
import { emit, kwrite, type ProcCtx, type ProcHandle } from './ctx.js';
import {
  P_EXIT_CODE,
  P_KILL_ADDR,
  P_KILL_CODE,
  P_KILL_REASON,
  P_MAGIC,
  P_REGIONS,
  P_STATE,
  STATE_EXITED,
  STATE_KILLED,
  USER_END,
} from './layout.js';
import { unmapRange } from './pages.js';
import { readStats, KILL_REASONS } from './stats.js';
import { regionList, vmaFree } from './vma.js';

/** exitProcess ends a process with an exit code. */
export function exitProcess(k: ProcCtx, h: ProcHandle, code: number): void {
  kwrite(k, h.desc + P_STATE, STATE_EXITED);
  kwrite(k, h.desc + P_EXIT_CODE, code);
  emit(k, { type: 'exit', pid: h.pid, code });
  teardown(k, h);
}

/** killProcess ends a process for an unresolvable fault, keeping the report. */
export function killProcess(k: ProcCtx, h: ProcHandle, report: KillReport): void {
  kwrite(k, h.desc + P_STATE, STATE_KILLED);
  kwrite(k, h.desc + P_KILL_ADDR, report.address);
  kwrite(k, h.desc + P_KILL_CODE, report.errorCode);
  kwrite(k, h.desc + P_KILL_REASON, KILL_REASONS.indexOf(report.reason) + 1);
  emit(k, { type: 'kill', pid: h.pid, ...report });
  const region = report.region;
  teardown(k, h, region);
}

/** teardown frees everything a process holds (also a half-built one); switches to the kernel's space if current. */
export function teardown(k: ProcCtx, h: ProcHandle, killRegion = ''): void {
  if ((k.machine.mmu.cr3 & FRAME_MASK) >>> 0 === h.space.directory) k.vm.switchTo(k.vm.kernel);
  unmapRange(k, h, 0, USER_END);
  k.ended.set(h.pid, readStats(k, h.desc, h.pid, killRegion));
  for (const v of regionList(k, h.desc)) vmaFree(k, v.at);
  kwrite(k, h.desc + P_REGIONS, 0);
  k.vm.destroySpace(h.space);
  k.table.remove(h.pid);
  kwrite(k, h.desc + P_MAGIC, 0);
  k.heap.kfree(h.desc as LinAddr);
}
