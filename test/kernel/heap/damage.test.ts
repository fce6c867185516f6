// Damage the heap's own checks must catch, one case at a time: forged free
// headers (a valid check word but a bogus link or size), a damaged header met
// by a kmalloc that would grow the heap, overwritten control words, slab
// descriptors and page maps, and overruns into a slab object's red zone. Each
// rejected call throws HeapError naming an address, and everything the kernel
// owns is byte-identical afterwards (physical memory, frame allocator).

import { describe, expect, it } from 'vitest';
import { hex, lin } from '../../../src/hw/addr.js';
import type { KernelHeap } from '../../../src/kernel/heap/api.js';
import { HeapError, type HeapErrorKind } from '../../../src/kernel/heap/errors.js';
import { createHeap } from '../../../src/kernel/heap/heap.js';
import { readFree, writeFree } from '../../../src/kernel/heap/header.js';
import { KrHeap } from '../../../src/kernel/heap/kr.js';
import { CB } from '../../../src/kernel/heap/krcontrol.js';
import { KR_BASE, PAGE, SLAB_BASE } from '../../../src/kernel/heap/layout.js';
import { RED_ZONE, SLAB_HDR, classOf, stride } from '../../../src/kernel/heap/slabclass.js';
import { SC } from '../../../src/kernel/heap/slabctl.js';
import { changedChunk, machineState } from './snapshot.js';
import { heapRig, type HeapRig } from './testbackend.js';

/** rejects runs a call that must throw HeapError of `kind` at `address`, leaving the machine byte-identical. */
function rejects(rig: HeapRig, kind: HeapErrorKind, address: number, call: () => unknown): HeapError {
  const before = machineState(rig);
  let caught: unknown = null;
  try {
    call();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'the call should have thrown').toBeInstanceOf(HeapError);
  const err = caught as HeapError;
  expect([err.kind, err.address === null ? null : hex(err.address)]).toEqual([kind, hex(address)]);
  expect(err.message).toContain(hex(address));
  expect(changedChunk(before, machineState(rig))).toBeNull();
  return err;
}

/** krSetup makes a K&R heap with a free block between live ones: returns the block addresses. */
function krSetup() {
  const rig = heapRig();
  const heap = KrHeap.create(rig.backend);
  const a = heap.kmalloc(64)!;
  const b = heap.kmalloc(64)!;
  const c = heap.kmalloc(64)!;
  heap.kfree(b);
  return { rig, heap, a, b, c, m: rig.machine };
}

/** forge rewrites free block p's header with a valid check word: what a deliberate forgery could do. */
function forge(h: KrHeap, p: number, change: { next?: number; size?: number; holed?: boolean }): void {
  const f = readFree(h.machine, p)!;
  writeFree(h.machine, p, change.next ?? f.next, change.size ?? f.size, change.holed ?? f.holed);
}

/** ALL_CALLS are requests too big for the small free block, so their walks must follow its link. */
const ALL_CALLS = (heap: KernelHeap, live: number) => [
  () => heap.kmalloc(400),
  () => heap.kmalloc(200000),
  () => heap.kcalloc(3, 400),
  () => heap.kmallocAligned(100, 4096),
  () => heap.krealloc(lin(live), 100000),
];

/** holed makes a K&R heap with a large free block whose inside pages went back (a hole); returns it and the block. */
function holed() {
  const rig = heapRig();
  const heap = KrHeap.create(rig.backend);
  heap.kmalloc(4000);
  const big = heap.kmalloc(200 * 1024)!;
  heap.kmalloc(200 * 1024);
  heap.kfree(big);
  expect(heap.stats().bytesUnmapped).toBeGreaterThan(0);
  return { rig, heap, big };
}

describe('forged free-list links: walks stay bounded and inside the arena', () => {
  const cases: [string, (h: KrHeap, b: number) => number][] = [
    ['points at itself (a one-block cycle)', (_h, b) => b - 16],
    ['points backwards (a cycle through lower blocks)', (h) => h.arena],
    ['points outside the heap', () => 0xc0000000],
    ['points past the break', (h) => h.brk + 16 * PAGE],
    ['points into the control page', () => KR_BASE + 0x20],
    ['is misaligned', (_h, b) => b + 8],
  ];
  for (const [what, target] of cases) {
    it(`a free header whose next ${what} is reported at that block, by every entry point`, () => {
      const { rig, heap, a, b } = krSetup();
      forge(heap, b - 16, { next: target(heap, b) });
      for (const call of ALL_CALLS(heap, a)) rejects(rig, 'corrupt-header', b - 16, call);
      rejects(rig, 'corrupt-header', b - 16, () => heap.kfree(lin(b + 80)));
      expect(() => heap.stats()).toThrow(HeapError);
      expect(heap.check().length).toBeGreaterThan(0);
    });
  }

  it('a forged next into the hole of a large free block is caught without touching the hole', () => {
    const { rig, heap, big } = holed();
    const first = readFree(heap.machine, KR_BASE)!.next;
    expect(first).toBeLessThan(big);
    forge(heap, first, { next: big + 20 * PAGE });
    rejects(rig, 'corrupt-header', first, () => heap.kmalloc(300 * 1024));
    expect(heap.check().length).toBeGreaterThan(0);
  });

  it('a forged size (over the next block, or over a hole with the hole flag cleared) is refused', () => {
    const { rig, heap, b } = krSetup();
    forge(heap, b - 16, { size: 1000 });
    rejects(rig, 'corrupt-header', b - 16, () => heap.kmalloc(40));
    const h = holed();
    let p = readFree(h.heap.machine, KR_BASE)!.next;
    while (!readFree(h.heap.machine, p)!.holed) p = readFree(h.heap.machine, p)!.next;
    expect(p).toBeLessThanOrEqual(h.big - 16);
    forge(h.heap, p, { holed: false });
    rejects(h.rig, 'corrupt-header', p, () => h.heap.kmalloc(150 * 1024));
  });

  it('freep off the list (a valid-looking header not linked from base) ends the walk with an error', () => {
    const { rig, heap, b } = krSetup();
    expect(heap.freep).toBe(heap.arena);
    writeFree(heap.machine, KR_BASE, b - 16, 0, false);
    const err = rejects(rig, 'corrupt-header', heap.freep, () => heap.kmalloc(100000));
    expect(err.message).toMatch(/not on the free list/);
  });
});

describe('kmalloc that needs to grow rejects before it maps anything', () => {
  it('a damaged free header is found before the break moves or a frame is taken', () => {
    const { rig, heap, b } = krSetup();
    const brk = heap.brk,
      used = rig.frames.usedCount;
    rig.machine.write32(b - 16 + 4, 0x7fff);
    for (const call of ALL_CALLS(heap, 0).slice(0, 4)) rejects(rig, 'corrupt-header', b - 16, call);
    expect([heap.brk, rig.frames.usedCount]).toEqual([brk, used]);
  });

  it('an overwritten freep, break or frame count (the sealed control words) stops every entry point', () => {
    for (const off of [CB.FREEP, CB.BRK, CB.FRAMES, CB.CHECK]) {
      const { rig, heap, a, c } = krSetup();
      rig.machine.write32(KR_BASE + off, rig.machine.read32(KR_BASE + off) ^ 0x1000);
      for (const call of [...ALL_CALLS(heap, a), () => heap.kfree(lin(c))])
        rejects(rig, 'corrupt-header', KR_BASE, call);
      expect(heap.check().join()).toMatch(/control block/);
    }
  });
});

describe('krealloc, kcalloc and kmallocAligned reject like kfree', () => {
  it('krealloc that would move validates the whole free list first; kcalloc and kmallocAligned leave nothing behind', () => {
    const { rig, heap, a, c, m } = krSetup();
    const far = heap.kmalloc(3000)!;
    heap.kmalloc(64);
    heap.kfree(far);
    m.write32(far - 16 + 12, 0x5a5a5a5a);
    rejects(rig, 'corrupt-header', far - 16, () => heap.krealloc(lin(c), 20000));
    rejects(rig, 'corrupt-header', far - 16, () => heap.kcalloc(100, 100));
    rejects(rig, 'corrupt-header', far - 16, () => heap.kmallocAligned(5000, 4096));
    const fresh = krSetup();
    fresh.m.write32(fresh.a - 16 + 4, 1);
    rejects(fresh.rig, 'corrupt-header', fresh.a, () => fresh.heap.krealloc(lin(fresh.a), 10));
    expect(a).toBeGreaterThan(c);
  });
});

describe('slab layer: sealed descriptors, page map and red zones', () => {
  function slabSetup(redZone = true) {
    const rig = heapRig();
    const heap = createHeap(rig.backend, 'slab', { redZone });
    return { rig, heap, m: rig.machine };
  }

  it('an overrun into the red zone is reported at the object on kfree and krealloc, and by check()', () => {
    const { rig, heap, m } = slabSetup();
    const a = heap.kmalloc(40)!;
    const b = heap.kmalloc(40)!;
    expect(b - a).toBe(stride(classOf(40), true));
    m.write8(a + 64, 0);
    const err = rejects(rig, 'overrun', a, () => heap.kfree(a));
    expect(err.message).toContain(hex(a + 64));
    rejects(rig, 'overrun', a, () => heap.krealloc(a, 1000));
    expect(heap.check().join()).toContain(`red zone after object ${hex(a)}`);
    heap.kfree(b);
    m.write8(a + 64 + RED_ZONE - 1, m.read8(a + 64 + RED_ZONE - 1) ^ 1);
    rejects(rig, 'overrun', a, () => heap.kfree(a));
  });

  it('without the option objects are packed and an overrun is not seen (documented)', () => {
    const { heap, m } = slabSetup(false);
    const a = heap.kmalloc(40)!;
    const b = heap.kmalloc(40)!;
    expect(b - a).toBe(64);
    m.write8(a + 64, 0x41);
    expect(() => heap.kfree(a)).not.toThrow();
  });

  it('with red zones an aligned request above 16 bytes goes to the K&R heap', () => {
    const { heap } = slabSetup();
    const p = heap.kmallocAligned(64, 64)!;
    expect(p % 64).toBe(0);
    expect(p).toBeLessThan(SLAB_BASE);
    expect(heap.kmallocAligned(64, 16)!).toBeGreaterThanOrEqual(SLAB_BASE);
  });

  it('a damaged class descriptor, slab count or control word stops the calls that use it', () => {
    const { rig, heap, m } = slabSetup();
    const objs = Array.from({ length: 5 }, () => heap.kmalloc(100)!);
    const cls = classOf(100);
    m.write32(SLAB_BASE + cls * 32 + SC.PARTIAL, 0xdc00f000);
    rejects(rig, 'corrupt-header', SLAB_BASE + cls * 32, () => heap.kmalloc(100));
    heap.kfree(objs[0]);
    expect(heap.check().join()).toContain(`descriptor of the 128-byte class at ${hex(SLAB_BASE + cls * 32)}`);
    expect(heap.kmalloc(16)).not.toBeNull();
    const page = (objs[1] & ~0xfff) >>> 0;
    const r2 = slabSetup();
    const o2 = r2.heap.kmalloc(100)!;
    r2.m.write32(((o2 & ~0xfff) >>> 0) + SLAB_HDR + 8, 0);
    rejects(r2.rig, 'corrupt-header', ((o2 & ~0xfff) >>> 0) + SLAB_HDR, () => r2.heap.kfree(o2));
    const r3 = slabSetup();
    r3.m.write32(SLAB_BASE + SC.HINT, 7);
    rejects(r3.rig, 'corrupt-header', SLAB_BASE, () => r3.heap.kmalloc(10));
    expect(page).toBeGreaterThan(SLAB_BASE);
  });

  it('a page map that lies (a free page marked used, a used page marked free) never faults or maps twice', () => {
    const { rig, heap, m } = slabSetup();
    const a = heap.kmalloc(16)!;
    m.write32(SLAB_BASE + SC.PAGEMAP, m.read32(SLAB_BASE + SC.PAGEMAP) | 0x8);
    rejects(rig, 'corrupt-header', SLAB_BASE + SC.PAGEMAP, () => heap.kfree(lin(SLAB_BASE + 3 * PAGE)));
    m.write32(SLAB_BASE + SC.PAGEMAP, 1);
    rejects(rig, 'not-allocated', a, () => heap.kfree(a));
    rejects(rig, 'corrupt-header', SLAB_BASE + SC.PAGEMAP, () => heap.kmalloc(200));
    expect(heap.check().length).toBeGreaterThan(0);
  });
});
