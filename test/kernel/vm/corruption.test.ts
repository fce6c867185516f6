// Corruption of the address-space registry in RAM: a word changed the way a
// buggy kernel or a stray write would (a physical write, behind the VM's
// back). The VM either does what C would on that memory or reports
// "address-space registry corrupted", changing nothing; audit() catches each.
import { describe, expect, it } from 'vitest';
import { lin } from '../../../src/hw/addr.js';
import { PTE_RW, PTE_US } from '../../../src/hw/paging.js';
import { REGISTRY_MAGIC, SPACE_MAGIC } from '../../../src/kernel/vm/registry.js';
import { VmError, type VmErrorKind } from '../../../src/kernel/vm/error.js';
import { bringUp, imageChanges, stateImage } from './bringup.js';

type Rig = ReturnType<typeof bringUp>;

/** registry returns the physical address of the registry's first frame and of record i in it. */
function registry(rig: Rig): { frame: number; record: (i: number) => number } {
  const frame = rig.vm.registry.table.first;
  return { frame, record: (i) => frame + 0x10 + 16 * i };
}

/** rejected runs a call that must throw VmError of `kind` matching `message`; RAM and frames stay unchanged. */
function rejected(rig: Rig, call: () => unknown, kind: VmErrorKind, message: RegExp): void {
  const image = stateImage(rig.m, rig.core, rig.frames);
  const free = rig.frames.stats().free;
  let error: unknown = null;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(VmError);
  expect((error as VmError).kind).toBe(kind);
  expect((error as VmError).message).toMatch(message);
  expect(rig.frames.stats().free).toBe(free);
  expect(imageChanges(image, stateImage(rig.m, rig.core, rig.frames))).toEqual([]);
}

/** rig: the kernel space and two user spaces (records 0, 1, 2), the registry checked clean. */
function rig(): Rig & { a: ReturnType<Rig['vm']['createSpace']>; b: ReturnType<Rig['vm']['createSpace']> } {
  const r = bringUp('slot');
  const a = r.vm.createSpace();
  const b = r.vm.createSpace();
  expect(r.vm.audit()).toEqual([]);
  const { record } = registry(r);
  expect([0, 1, 2].map((i) => r.m.mem.read32(record(i)))).toEqual([SPACE_MAGIC, SPACE_MAGIC, SPACE_MAGIC]);
  expect(r.m.mem.read32(record(1) + 8)).toBe(a.directory); // the record names the directory
  return { ...r, a, b };
}

describe('corruption: the address-space registry', () => {
  it('the registry is in RAM: a space made and destroyed is a record written and cleared there', () => {
    const r = rig();
    const { frame, record } = registry(r);
    expect(r.m.mem.read32(frame)).toBe(REGISTRY_MAGIC);
    expect(r.m.mem.read32(frame + 4)).toBe(3); // count
    expect(r.vm.all.map((s) => s.directory)).toEqual([r.core.directory, r.a.directory, r.b.directory]);
    r.vm.destroySpace(r.a);
    expect(r.m.mem.read32(record(1))).toBe(0);
    expect(r.m.mem.read32(frame + 4)).toBe(2);
    expect(r.frames.isFree(r.vm.kernel.counts)).toBe(false); // the kernel's count frame: referenced by record 0
    expect(r.m.mem.read32(record(0) + 12)).toBe(r.vm.kernel.counts);
  });

  it("a record's directory overwritten with a non-frame: every walk reports it before writing anything", () => {
    const r = rig();
    r.m.mem.write32(registry(r).record(1) + 8, 0x1234);
    const f = r.frames.alloc()!;
    rejected(r, () => r.vm.kernel.map(lin(0xd0400000), f, PTE_RW), 'corrupted', /address-space registry corrupted/);
    expect(r.vm.createSpace().directory).not.toBe(0x1234); // adding a record reads no other record, as in C
    expect(() => r.vm.all).toThrow(/directory 0x00001234 is not a frame/);
    expect(r.vm.audit().join('\n')).toMatch(/address-space registry corrupted/);
  });

  it("a record's directory pointed at another frame: the space's handle is refused, as its record is gone", () => {
    const r = rig();
    const other = r.frames.alloc()!;
    r.m.mem.write32(registry(r).record(1) + 8, other);
    rejected(r, () => r.a.map(lin(0x400000), other, PTE_RW | PTE_US), 'destroyed', /was destroyed/);
    rejected(r, () => r.vm.switchTo(r.a), 'destroyed', /was destroyed/);
    expect(r.vm.all.map((s) => s.directory)).toContain(other); // the kernel believes RAM, as C would
    expect(r.vm.audit().join('\n')).toMatch(/kernel PDE \d+ differs from the kernel directory's/);
  });

  it("a record's magic cleared: the space is gone for the kernel; the frame's count no longer adds up", () => {
    const r = rig();
    r.m.mem.write32(registry(r).record(2), 0);
    rejected(r, () => r.b.translate(lin(0)), 'destroyed', /was destroyed/);
    expect(() => r.vm.all).toThrow(/counts 3 records, holds 2/);
    expect(r.vm.audit()).toEqual([
      expect.stringMatching(/address-space registry corrupted .*counts 3 records, holds 2/),
    ]);
  });

  it('the count lowered to 1: walks stop after the kernel record (as a C loop bounded by it); audit catches it', () => {
    const r = rig();
    r.m.mem.write32(registry(r).frame + 4, 1);
    expect(r.vm.all.map((s) => s.directory)).toEqual([r.core.directory]);
    r.vm.kernel.map(lin(0xd0400000), r.frames.alloc()!, PTE_RW).flush(); // a new kernel table...
    expect(r.a.walk(lin(0xd0400000)).pde.value).toBe(0); // ...reaches only the directories the walk saw
    expect(r.vm.audit().join('\n')).toMatch(/counts 1 records, holds 3/);
  });

  it("the table frame's magic overwritten: every walk reports it, and a new space takes nothing", () => {
    const r = rig();
    r.m.mem.write32(registry(r).frame, 0xdeadbeef);
    rejected(r, () => r.vm.createSpace(), 'corrupted', /has magic 0xDEADBEEF/);
    r.vm.switchTo(r.a); // the handle's record is read through its pointer, as C's would be: still intact
    expect(() => r.vm.current).toThrow(/address-space registry corrupted/); // the walk checks the frame
    expect(r.vm.audit().join('\n')).toMatch(/has magic 0xDEADBEEF/);
  });

  it('a record id changed: the handle that named it is refused (a record reused for another space looks the same)', () => {
    const r = rig();
    r.m.mem.write32(registry(r).record(1) + 4, 99);
    rejected(r, () => r.vm.destroySpace(r.a), 'destroyed', /was destroyed already/);
    expect(r.vm.audit()).toEqual([]); // a consistent registry: only the handle is stale
  });

  it('audit finds a count frame or directory freed behind the VM, and a count that disagrees with the table', () => {
    const r = rig();
    r.a.map(lin(0x400000), r.frames.alloc()!, PTE_RW | PTE_US).ignore();
    expect(r.vm.audit()).toEqual([]);
    r.m.mem.write32(r.a.counts + 1 * 4, 7); // PDE 1's present-PTE count
    expect(r.vm.audit().join('\n')).toMatch(/PDE 1 holds 1 present PTEs, its count says 7/);
    r.m.mem.write32(r.a.counts + 1 * 4, 1);
    r.frames.free(r.b.counts);
    expect(r.vm.audit().join('\n')).toMatch(/its count frame 0x[0-9A-F]+ is free in the frame allocator/);
  });

  it('the registry grows by a frame when one is full, and gives it back when empty', () => {
    const r = bringUp('slot', { ram: 64 << 20 });
    const cap = r.vm.registry.table.capacity;
    const spaces = Array.from({ length: cap }, () => r.vm.createSpace()); // the kernel's record + cap: two frames
    expect(r.vm.registry.table.frameList()).toHaveLength(2);
    expect(r.vm.all).toHaveLength(cap + 1);
    expect(r.vm.audit()).toEqual([]);
    const free = r.frames.stats().free;
    r.vm.destroySpace(spaces[cap - 1]); // the only record in the second frame
    expect(r.vm.registry.table.frameList()).toHaveLength(1);
    expect(r.frames.stats().free).toBe(free + 3); // directory, count frame, registry frame
    expect(r.vm.audit()).toEqual([]);
  });
});

describe('VmError kinds', () => {
  it('callers can match on kind and the address, not the message', () => {
    const { vm, frames } = bringUp('slot');
    const f = frames.alloc()!;
    const kindOf = (call: () => unknown): [VmErrorKind, number | null] => {
      try {
        call();
      } catch (e) {
        if (e instanceof VmError) return [e.kind, e.address];
        throw e;
      }
      throw new Error('no error');
    };
    expect(kindOf(() => vm.kernel.map(lin(0x400001), f, PTE_RW))).toEqual(['misaligned', 0x400001]);
    vm.kernel.map(lin(0x400000), f, PTE_RW).flush();
    expect(kindOf(() => vm.kernel.map(lin(0x400000), f, PTE_RW))).toEqual(['already-mapped', 0x400000]);
    expect(kindOf(() => vm.kernel.unmap(lin(0x800000)))).toEqual(['not-mapped', 0x800000]);
    expect(kindOf(() => vm.kernel.map(lin(0xd0000000), f, PTE_US))).toEqual(['bad-flags', 0xd0000000]);
    expect(kindOf(() => vm.kernel.map(lin(0xc03ff000), f, PTE_RW))).toEqual(['reserved', 0xc03ff000]);
    expect(kindOf(() => vm.destroySpace(vm.kernel))[0]).toBe('busy');
    while (frames.alloc() !== null);
    expect(kindOf(() => vm.kernel.map(lin(0x40000000), f, PTE_RW))).toEqual(['out-of-memory', 0x40000000]);
    expect(kindOf(() => vm.createSpace())[0]).toBe('out-of-memory');
    expect(frames.isFree(f)).toBe(false);
  });
});
