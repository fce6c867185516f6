// kernelMain: the memory manager's bring-up after the boot hand-off, as a C
// kernel's kmain would run it. Returns what it did, for the boot log and JSON.

import type { BootInfo } from '../boot/handoff.js';
import { hex } from '../hw/addr.js';
import { setupKernelCore } from './vm/core.js';

export interface KernelOptions {
  readonly frames?: 'bitmap' | 'list' | 'buddy';
  readonly ptAccess?: 'slot' | 'recursive';
  readonly quiet?: boolean;
}

export interface KernelReport {
  readonly sections: { title: string; lines: string[] }[];
  readonly json: Record<string, unknown>;
}

// kernelMain brings up the memory manager on a booted machine and reports each stage.
export function kernelMain(info: BootInfo, _options: KernelOptions = {}): KernelReport {
  const core = setupKernelCore(info);
  const lines = [
    `kernel page directory ${hex(core.directory)}, first page table ${hex(core.firstTable)}`,
    `temporary-mapping slot at 0xC03FF000 (PTE 1023 of the first page table)`,
  ];
  return { sections: [{ title: 'kernel virtual memory', lines }], json: {} };
}
