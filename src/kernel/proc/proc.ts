// createProcessKernel: the process kernel's bring-up over a booted kernel
// (kernelInit's result): the reference-count array, the process table.

import type { Kernel } from '../main.js';
import { ProcError, type ProcessKernel, type ProcessKernelOptions } from './api.js';

/** createProcessKernel brings up processes on a kernel from kernelInit (frames taken here count as "before"). */
export function createProcessKernel(kernel: Kernel, options: ProcessKernelOptions = {}): ProcessKernel {
  void kernel;
  void options;
  throw new ProcError('bad-argument', 'the process kernel is being written (interface only)');
}
