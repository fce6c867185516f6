// Brings up window, slot, frames and the kernel VM on a fake-booted machine,
// and snapshots what the VM keeps in RAM.
import type { PhysAddr } from '../../../src/hw/addr.js';
import type { Machine } from '../../../src/hw/machine.js';
import { createFrameAllocator } from '../../../src/kernel/frames/allocator.js';
import type { FrameAllocator, FrameStrategy } from '../../../src/kernel/frames/api.js';
import { setupKernelCore, type KernelCore } from '../../../src/kernel/vm/core.js';
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

/**
 * stateImage copies every allocated frame of RAM (every written 64 KiB chunk, with the frames the
 * allocator holds free blanked, and the kernel's directory and first table blanked for their accessed
 * bits and the slot's scratch PTEs): the page tables, directories, count frames, the registry and the
 * allocator's metadata. Equal images: no mapping, no frame, no record changed.
 */
export function stateImage(m: Machine, core: KernelCore, frames: FrameAllocator): Map<number, string> {
  const out = new Map<number, string>();
  m.mem.forEachWrittenChunk((base, bytes) => {
    const copy = bytes.slice();
    for (let off = 0; off < copy.length; off += 4096) {
      const f = base + off;
      if (f === core.directory || f === core.firstTable || frames.isFree(f as PhysAddr)) copy.fill(0, off, off + 4096);
    }
    if (copy.some((x) => x !== 0)) out.set(base, Buffer.from(copy).toString('base64')); // all zero: as never written
  });
  return out;
}

/** imageChanges lists the chunk bases whose contents differ between two images. */
export function imageChanges(a: Map<number, string>, b: Map<number, string>): number[] {
  const bases = new Set([...a.keys(), ...b.keys()]);
  return [...bases].filter((k) => a.get(k) !== b.get(k)).sort((x, y) => x - y);
}
