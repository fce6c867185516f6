// Misuse of the kernel VM API: each call is refused with a VmError naming the
// address, and a refused call leaves the frame allocator and every mapping as
// they were.
import { describe, expect, it } from 'vitest';
import { lin, phys, type LinAddr, type PhysAddr } from '../../../src/hw/addr.js';
import { PTE_P, PTE_RW, PTE_US } from '../../../src/hw/paging.js';
import type { AddressSpace } from '../../../src/kernel/vm/space.js';
import { VmError } from '../../../src/kernel/vm/space.js';
import { bringUp, imageChanges, stateImage } from './bringup.js';

type Rig = ReturnType<typeof bringUp>;

const U = PTE_RW | PTE_US;

/** refused runs a call that must throw VmError matching `message`, with the frame counts and RAM unchanged. */
function refused(rig: Rig, call: () => unknown, message: RegExp): void {
  const { frames } = rig;
  const before = JSON.stringify(frames.stats());
  const image = stateImage(rig.m, rig.core, frames);
  expect(call).toThrow(VmError);
  expect(call).toThrow(message);
  expect(JSON.stringify(frames.stats())).toBe(before);
  expect(imageChanges(image, stateImage(rig.m, rig.core, frames))).toEqual([]); // every mapping as it was, in RAM
  expect(rig.vm.audit()).toEqual([]);
}

/** leaveFree allocates frames until only `n` are left, and returns them (to give back later). */
function leaveFree(frames: { alloc(): PhysAddr | null; stats(): { free: number } }, n: number): PhysAddr[] {
  const taken: PhysAddr[] = [];
  while (frames.stats().free > n) taken.push(frames.alloc()!);
  return taken;
}

for (const pt of ['slot', 'recursive'] as const) {
  describe(`kernel VM misuse (--pt-access ${pt})`, () => {
    it('a destroyed space refuses everything, and cannot be destroyed twice', () => {
      const rig = bringUp(pt);
      const { vm, frames } = rig;
      const a = vm.createSpace();
      vm.destroySpace(a);
      const f = frames.alloc()!;
      refused(rig, () => vm.destroySpace(a), /was destroyed already/);
      refused(rig, () => a.map(lin(0x400000), f, U), /was destroyed/);
      refused(rig, () => a.translate(lin(0x400000)), /was destroyed/);
      refused(rig, () => vm.switchTo(a), /was destroyed/);
    });

    it('addresses that are not 32-bit, misaligned or wrapping past 4 GiB are refused', () => {
      const rig = bringUp(pt);
      const { vm, frames } = rig;
      const f = frames.alloc()!;
      const k = vm.kernel;
      refused(rig, () => k.map(lin(0x4000), 0x100000000 as PhysAddr, U), /not a 32-bit physical address/);
      refused(rig, () => k.map(0x100000000 as LinAddr, f, U), /not a 32-bit linear address/);
      refused(rig, () => k.map(-4096 as LinAddr, f, U), /not a 32-bit linear address/);
      refused(rig, () => k.unmap(lin(0x3004)), /not 4 KiB-aligned/);
      refused(rig, () => k.mapRange(lin(0xd0000000), f, 5000, PTE_RW), /not a positive multiple of 4 KiB/);
      refused(rig, () => k.mapRange(lin(0xd0000000), f, -4096, PTE_RW), /not a positive multiple of 4 KiB/);
      refused(rig, () => k.mapRange(lin(0xfe000000), f, 0x3000000, PTE_RW), /runs past 4 GiB/);
      expect(k.translate(lin(0))).toBeNull();
    });

    it("the temporary-mapping slots are not the VM API's to map, unmap or protect", () => {
      const rig = bringUp(pt);
      const { vm, frames } = rig;
      const f = frames.alloc()!;
      for (const slot of [0xc03fc000, 0xc03fd000, 0xc03fe000, 0xc03ff000]) {
        refused(rig, () => vm.kernel.map(lin(slot), f, PTE_RW), /temporary-mapping slot/);
        refused(rig, () => vm.kernel.unmap(lin(slot)), /temporary-mapping slot/);
        refused(rig, () => vm.kernel.protect(lin(slot), PTE_RW), /temporary-mapping slot/);
      }
    });

    it('createSpace out of memory half-way takes nothing', () => {
      const rig = bringUp(pt);
      const { vm, frames } = rig;
      leaveFree(frames, 1);
      refused(rig, () => vm.createSpace(), /out of memory/);
      expect(vm.all.length).toBe(1);
    });

    it('a kernel mapRange out of memory half-way unmaps what it mapped and frees the table it made', () => {
      const { vm, frames, m, core } = bringUp(pt);
      const data = frames.alloc()!;
      leaveFree(frames, 1); // enough for the first new kernel table, not for the second
      const before = JSON.stringify(frames.stats());
      const image = stateImage(m, core, frames);
      const at = lin(0xe13ff000); // its two pages straddle PDE 900 and PDE 901
      expect(() => vm.kernel.mapRange(at, data, 0x2000, PTE_RW)).toThrow(/out of memory/);
      expect(JSON.stringify(frames.stats())).toBe(before);
      expect(imageChanges(image, stateImage(m, core, frames))).toEqual([]);
      expect(vm.audit()).toEqual([]);
      for (const pdi of [900, 901]) expect(vm.kernel.walk(lin(pdi << 22)).pde.value & PTE_P).toBe(0);
      expect(() => m.read32(0xe13ff000)).toThrow();
    });

    it('a space holding a user 4 MiB page is not destroyed', () => {
      const rig = bringUp(pt);
      const { vm } = rig;
      const a: AddressSpace = vm.createSpace();
      a.mapLarge(lin(0x400000), phys(0x800000), U).ignore();
      refused(rig, () => vm.destroySpace(a), /still has 1 user mapping/);
      a.unmap(lin(0x400000)).flush.ignore();
      vm.destroySpace(a);
    });
  });
}
