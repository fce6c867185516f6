import { describe, expect, it } from 'vitest';
import { lin, phys } from '../../../src/hw/addr.js';
import { PageFault } from '../../../src/hw/fault.js';
import { PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US } from '../../../src/hw/paging.js';
import { UnflushedError } from '../../../src/kernel/vm/flush.js';
import { KernelPanic, installPageFaultHandler } from '../../../src/kernel/vm/panic.js';
import { VmError } from '../../../src/kernel/vm/space.js';
import { bringUp } from './bringup.js';

const U = PTE_RW | PTE_US;

for (const pt of ['slot', 'recursive'] as const) {
  describe(`kernel VM with --pt-access ${pt}`, () => {
    it('maps a frame the MMU then reaches; translate and walk agree; unmap returns the frame', () => {
      const { vm, m, frames } = bringUp(pt);
      const f = frames.alloc()!;
      vm.kernel.map(lin(0x08048000), f, U).flush();
      m.write32(0x08048010, 0xabcdef01);
      expect(m.mem.read32(f + 0x10)).toBe(0xabcdef01);
      expect(vm.kernel.translate(lin(0x08048010))).toBe(f + 0x10);
      const w = vm.kernel.walk(lin(0x08048010));
      expect(w.pde.index).toBe(0x20);
      expect(w.pte!.index).toBe(0x48);
      expect(w.pte!.value & ~(PTE_A | PTE_D)).toBe(f | PTE_P | U);
      const u = vm.kernel.unmap(lin(0x08048000));
      u.flush.flush();
      expect(u.frame).toBe(f);
      expect(vm.kernel.translate(lin(0x08048010))).toBeNull();
      expect(() => m.read32(0x08048010)).toThrow(PageFault);
    });

    it('a kernel mapping made in one address space is visible in all, old and new', () => {
      const { vm, m, frames } = bringUp(pt);
      const a = vm.createSpace();
      vm.switchTo(a);
      const f = frames.alloc()!;
      a.map(lin(0xd0400000), f, PTE_RW).flush(); // a new kernel page table, made while `a` is current
      const b = vm.createSpace();
      m.write32(0xd0400000, 7);
      for (const s of [vm.kernel, a, b]) {
        vm.switchTo(s);
        expect(m.read32(0xd0400000)).toBe(7);
        expect(s.translate(lin(0xd0400000))).toBe(f);
      }
    });

    it('a destroyed directory leaves no window behind: its frame, reused as data, is never walked as tables', () => {
      const { vm, m, frames } = bringUp(pt);
      const a = vm.createSpace();
      const b = vm.createSpace();
      const f = frames.alloc()!;
      b.map(lin(0x400000), f, U).ignore(); // reached from the kernel's directory (recursive: through its PDE 1022)
      vm.switchTo(a);
      expect(b.translate(lin(0x400000))).toBe(f); // and from a's
      vm.switchTo(vm.kernel);
      b.unmap(lin(0x400000)).flush.ignore();
      vm.destroySpace(b);
      for (const d of [vm.kernel.directory, a.directory]) {
        expect((m.mem.read32(d + 1022 * 4) & 0xfffff000) >>> 0).not.toBe(b.directory);
      }
      /** the frame comes back as ordinary data, full of what looks like present entries */
      const again = frames.alloc()!;
      expect(again).toBe(b.directory);
      m.mem.fill(again, 0x07, 4096);
      expect(vm.kernel.translate(lin(0x400000))).toBeNull();
      expect(a.translate(lin(0x400000))).toBeNull();
      expect(() => m.read32(0xff800000)).toThrow();
    });

    it('user mappings are private to their address space, translatable from any other', () => {
      const { vm, m, frames } = bringUp(pt);
      const a = vm.createSpace();
      const b = vm.createSpace();
      const fa = frames.alloc()!;
      const fb = frames.alloc()!;
      a.map(lin(0x400000), fa, U).ignore(); // not current: no TLB can hold it
      b.map(lin(0x400000), fb, U).ignore();
      expect(a.translate(lin(0x400004))).toBe(fa + 4);
      expect(b.translate(lin(0x400004))).toBe(fb + 4);
      vm.switchTo(a);
      m.write32(0x400000, 1);
      vm.switchTo(b);
      m.write32(0x400000, 2);
      expect([m.mem.read32(fa), m.mem.read32(fb)]).toEqual([1, 2]);
      expect(vm.kernel.translate(lin(0x400000))).toBeNull();
    });

    it('page tables come from the frame allocator and go back when their last entry is unmapped', () => {
      const { vm, frames } = bringUp(pt);
      const s = vm.createSpace();
      const before = frames.stats().free;
      const data: number[] = [];
      for (let i = 0; i < 40; i++) {
        const f = frames.alloc()!;
        data.push(f);
        s.map(lin(0x10000000 + i * 0x100000), f, U).ignore(); // 40 pages over 10 page tables
      }
      expect(s.userTables()).toBe(10);
      expect(frames.stats().free).toBe(before - 40 - 10);
      for (let i = 0; i < 40; i++) {
        const u = s.unmap(lin(0x10000000 + i * 0x100000));
        u.flush.ignore();
        frames.free(u.frame);
      }
      expect(s.userTables()).toBe(0);
      expect(frames.stats().free).toBe(before);
      expect(vm.tablesFreed).toBe(10);
    });

    it('a page table freed and replaced by one in another frame is reached afresh (no stale table window)', () => {
      const { vm, m, frames } = bringUp(pt);
      const f = frames.alloc()!;
      vm.kernel.map(lin(0x08000000), f, U).flush();
      const t1 = vm.kernel.walk(lin(0x08000000)).pde.value & ~0xfff;
      m.read32(0x08000000);
      const u = vm.kernel.unmap(lin(0x08000000)); // the last entry: its table goes back after the flush
      u.flush.flush();
      const hold = frames.alloc()!; // likely t1 again: keep it so the next table lands elsewhere
      vm.kernel.map(lin(0x08001000), f, U).flush();
      const t2 = vm.kernel.walk(lin(0x08001000)).pde.value & ~0xfff;
      expect(t2).not.toBe(t1);
      m.write32(0x08001004, 0x1234);
      expect(m.mem.read32(f + 4)).toBe(0x1234);
      frames.free(hold);
    });

    it('forgetting a flush obligation is caught by the next VM operation', () => {
      const { vm, frames } = bringUp(pt);
      vm.kernel.map(lin(0x500000), frames.alloc()!, U); // obligation dropped on the floor
      expect(() => vm.kernel.map(lin(0x501000), frames.alloc()!, U)).toThrow(UnflushedError);
      expect(() => vm.tracker.check()).toThrow(/neither applied nor ignored \(pages 0x00500000\)/);
    });

    it('a flush can be ignored only for a space that is not current, never for kernel pages', () => {
      const { vm, frames } = bringUp(pt);
      const f = vm.kernel.map(lin(0x500000), frames.alloc()!, U);
      expect(() => f.ignore()).toThrow(/is current/);
      f.flush();
      const k = vm.createSpace().map(lin(0xd0000000), frames.alloc()!, PTE_RW);
      expect(() => k.ignore()).toThrow(/kernel pages/);
      k.flush();
      expect(() => k.flush()).toThrow(/settled twice/);
    });

    it('without the flush the TLB keeps the old translation (why the obligation exists)', () => {
      const { vm, m, frames } = bringUp(pt);
      const f1 = frames.alloc()!;
      m.mem.write32(f1, 1);
      vm.kernel.map(lin(0x600000), f1, U).flush();
      expect(m.read32(0x600000)).toBe(1);
      const u = vm.kernel.unmap(lin(0x600000));
      expect(m.read32(0x600000)).toBe(1); // stale: unmapped in memory, still in the TLB
      u.flush.flush();
      expect(() => m.read32(0x600000)).toThrow(PageFault);
    });

    it('protect changes permissions: a write to a page made read-only faults (CR0.WP)', () => {
      const { vm, m, frames } = bringUp(pt);
      vm.kernel.map(lin(0x700000), frames.alloc()!, U).flush();
      m.write32(0x700000, 1);
      vm.kernel.protect(lin(0x700000), PTE_US).flush();
      expect(() => m.write32(0x700000, 2)).toThrow(PageFault);
      expect(m.read32(0x700000)).toBe(1);
      expect(vm.kernel.walk(lin(0x700000)).pte!.value & PTE_D).toBe(PTE_D); // A/D kept
    });

    it('4 MiB pages where aligned with PSE on; mapRange mixes sizes', () => {
      const { vm, m } = bringUp(pt);
      vm.kernel.mapRange(lin(0x7fbff000), phys(0x00bff000), 0x401000, U).flush();
      expect(vm.kernel.walk(lin(0x7fbff000)).pte).not.toBeNull(); // a 4 KiB page
      expect(vm.kernel.walk(lin(0x7fc00000)).pte).toBeNull(); // a 4 MiB page: no PTE
      m.mem.write32(0x00d00010, 99);
      expect(vm.kernel.translate(lin(0x7fd00010))).toBe(0x00d00010);
      expect(m.read32(0x7fd00010)).toBe(99);
      const u = vm.kernel.unmap(lin(0x7fd23000));
      expect(u).toMatchObject({ large: true, frame: 0x00c00000 });
      u.flush.flush();
      expect(() => m.read32(0x7fc00000)).toThrow(PageFault);
      expect(m.read32(0x7fbff000)).toBe(m.mem.read32(0xbff000));
    });

    it('rejects bad calls and changes nothing', () => {
      const { vm, frames, m } = bringUp(pt);
      const f = frames.alloc()!;
      vm.kernel.map(lin(0x800000), f, U).flush();
      const snapshot = [...m.mem.readBytes(0x100000, 0x10000)].join();
      const free = frames.stats().free;
      expect(() => vm.kernel.map(lin(0x800001), f, U)).toThrow(/not 4 KiB-aligned/);
      expect(() => vm.kernel.map(lin(0x800000), f, U)).toThrow(/already mapped/);
      expect(() => vm.kernel.map(lin(0xd0000000), f, U)).toThrow(/must not be user-accessible/);
      expect(() => vm.kernel.map(lin(0x900000), f, PTE_A)).toThrow(/flags/);
      expect(() => vm.kernel.unmap(lin(0x900000))).toThrow(VmError);
      expect(() => vm.kernel.protect(lin(0x900000), U)).toThrow(/not mapped/);
      if (pt === 'recursive') expect(() => vm.kernel.map(lin(0xffc00000), f, PTE_RW)).toThrow(/recursive/);
      expect(frames.stats().free).toBe(free);
      expect([...m.mem.readBytes(0x100000, 0x10000)].join()).toBe(snapshot);
    });

    it('global kernel pages survive an address-space switch; user pages do not', () => {
      const { vm, m, frames } = bringUp(pt);
      const a = vm.createSpace();
      a.map(lin(0x400000), frames.alloc()!, U).ignore();
      vm.switchTo(a);
      m.read32(0xc0100000);
      m.read32(0x400000);
      vm.switchTo(vm.kernel);
      vm.switchTo(a); // reads a's registry record (through the slot) before loading CR3
      m.mmu.resetCounters();
      m.read32(0xc0100000);
      expect(m.mmu.counters()).toMatchObject({ hits: 1, misses: 0 });
      m.read32(0x400000);
      expect(m.mmu.counters()).toMatchObject({ hits: 1, misses: 1 });
      expect(vm.kernel.walk(lin(0xc0100000)).pte!.value & PTE_G).toBe(PTE_G);
    });

    it('an unresolvable page fault is a kernel panic naming CR2, the error in words and the access', () => {
      const { m } = bringUp(pt);
      installPageFaultHandler(m);
      let panic: unknown;
      try {
        m.write32(0xdeadb000, 1);
      } catch (e) {
        panic = e;
      }
      expect(panic).toBeInstanceOf(KernelPanic);
      expect((panic as KernelPanic).message).toMatch(
        /at 0xDEADB000 \(CR2\); error code 0x2: not present, write, supervisor; caused by a 4-byte write at CPL 0/,
      );
      expect(m.mmu.cr2).toBe(0xdeadb000);
      expect(m.read32(0xc0100000)).toBeGreaterThanOrEqual(0); // the machine is still usable
    });
  });
}
