// Brings up window, slot, frames and the kernel VM on a fake-booted machine.
import { createFrameAllocator, type FrameStrategy } from '../../../src/kernel/frames/allocator.js';
import { setupKernelCore } from '../../../src/kernel/vm/core.js';
import { KernelVm } from '../../../src/kernel/vm/kvm.js';
import type { PtAccessKind } from '../../../src/kernel/vm/ptaccess.js';
import { fakeBoot, type FakeBootOptions } from '../fakeboot.js';

export function bringUp(
  ptAccess: PtAccessKind,
  opts: FakeBootOptions & { frames?: FrameStrategy; global?: boolean } = {},
) {
  const info = fakeBoot({ ram: 32 << 20, pse: true, ...opts });
  const core = setupKernelCore(info);
  const frames = createFrameAllocator(core, opts.frames ?? 'bitmap', { poison: true });
  const vm = new KernelVm(core, frames, { ptAccess, globalKernel: opts.global ?? true });
  return { info, core, frames, vm, m: info.machine };
}
