// The machine and kernel, booted in the page exactly as `pagelab boot` and
// `pagelab translate` boot them (128 MiB, the default kernel, bitmap frames,
// slot page-table access, K&R heap), with the recorder's log cut into the
// bootstrap's steps so each can show what it changed.

import { boot, type BootResult } from '../../src/boot/boot.js';
import type { BootStep } from '../../src/boot/bootstrap.js';
import { kernelMain, type KernelReport } from '../../src/kernel/main.js';
import type { Machine } from '../../src/hw/machine.js';
import { recording, type BootEvent } from './recorder.js';

/** One step as the page shows it: the boot log's lines, registers before and after, and its events. */
export interface StepView {
  readonly name: string;
  readonly lines: readonly string[];
  readonly before: { readonly cr0: number; readonly cr3: number; readonly cr4: number };
  readonly after: { readonly cr0: number; readonly cr3: number; readonly cr4: number };
  readonly events: readonly BootEvent[];
}

export interface Session {
  readonly result: BootResult;
  readonly report: KernelReport;
  readonly machine: Machine;
  readonly steps: readonly StepView[];
}

/** nthIndex finds the n-th (0-based) event matching pred, or -1. */
function nthIndex(log: readonly BootEvent[], n: number, pred: (e: BootEvent) => boolean): number {
  let seen = 0;
  for (let i = 0; i < log.length; i++) if (pred(log[i]) && seen++ === n) return i;
  return -1;
}

/**
 * bootCuts finds where each bootstrap step's events end: the hand-off ends with
 * the loader's CR0 write, the directory is built before CR3 is loaded, paging is
 * enabled up to the jump's fetch (the second fetch), the jump runs to the end.
 */
export function bootCuts(log: readonly BootEvent[]): number[] {
  const handoff = nthIndex(log, 0, (e) => e.kind === 'cr' && e.reg === 'cr0') + 1;
  const cr3 = nthIndex(log, 0, (e) => e.kind === 'cr' && e.reg === 'cr3');
  const jump = nthIndex(log, 1, (e) => e.kind === 'fetch');
  if (handoff <= 0 || cr3 < handoff || jump < cr3) throw new Error('the boot log does not have the bootstrap shape');
  return [handoff, cr3, jump, log.length, log.length];
}

/** stepViews pairs the boot's recorded steps with their slices of the log. */
function stepViews(steps: readonly BootStep[], log: readonly BootEvent[]): StepView[] {
  const cuts = bootCuts(log);
  const out: StepView[] = [];
  let from = 0;
  let before = { cr0: 0, cr3: 0, cr4: 0 };
  steps.forEach((s, i) => {
    const to = cuts[Math.min(i, cuts.length - 1)];
    const after = { cr0: s.cr0, cr3: s.cr3, cr4: s.cr4 };
    out.push({ name: s.name, lines: s.lines, before, after, events: log.slice(from, to) });
    from = to;
    before = after;
  });
  return out;
}

/** bringUpStep is the memory manager's bring-up as one step: its report's sections and its events. */
function bringUpStep(report: KernelReport, m: Machine, prev: StepView, log: readonly BootEvent[]): StepView {
  const lines = report.sections.flatMap((s) => [`${s.title}:`, ...s.lines.map((l) => '  ' + l)]);
  const after = { cr0: m.mmu.cr0, cr3: m.mmu.cr3, cr4: m.mmu.cr4 };
  return { name: "the memory manager's bring-up (kmain)", lines, before: prev.after, after, events: log };
}

/** startSession boots the default kernel (its ELF bytes given) and brings up the memory manager. */
export function startSession(kernelBytes: Uint8Array, ram = 128 * 1024 * 1024): Session {
  const booted = recording(() => boot({ ram, kernel: { name: 'pagelab-kernel.elf', bytes: kernelBytes } }));
  const result = booted.result;
  const machine = result.info.machine;
  const mmu = machine.mmu;
  const options = { frames: 'bitmap', ptAccess: 'slot', heap: 'kr', lowMemory: 'use', quiet: true } as const;
  const kmain = recording(() => {
    const report = kernelMain(result.info, { ...options, tlbMissCounter: () => mmu.counters().misses });
    report.kernel.vm.switchTo(report.kernel.vm.kernel); // as `pagelab translate` does before its walk
    return report;
  });
  const steps = stepViews(result.steps, booted.log);
  steps.push(bringUpStep(kmain.result, machine, steps[steps.length - 1], kmain.log));
  return { result, report: kmain.result, machine, steps };
}
