import { describe, expect, it } from 'vitest';
import { hex, type PhysAddr } from '../../../src/hw/addr.js';
import { PagelabError } from '../../../src/errors.js';
import { FRAME_STRATEGIES, type FrameAllocator } from '../../../src/kernel/frames/api.js';
import { FrameError } from '../../../src/kernel/frames/error.js';
import { bootWith, imageDiff, ramImage, type Booted } from './helpers.js';

/** rejects runs a call that must throw FrameError naming `address`, and checks nothing changed. */
function rejects(b: Booted, call: (a: FrameAllocator) => void, address: string, why: RegExp, audit = true): void {
  const image = ramImage(b);
  const stats = b.alloc.stats();
  let caught: unknown = null;
  try {
    call(b.alloc);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FrameError);
  expect((caught as FrameError).message).toContain(address);
  expect((caught as FrameError).message).toMatch(why);
  expect(imageDiff(image, ramImage(b))).toBeNull();
  expect(b.alloc.stats()).toEqual(stats);
  if (audit) expect(b.alloc.audit()).toEqual([]);
}

const p = (n: number): PhysAddr => n as PhysAddr;

describe('frame allocators: rejected calls name the address and change nothing', () => {
  for (const strategy of FRAME_STRATEGIES) {
    describe(strategy, () => {
      /** setup: three frames allocated, the middle one freed again; poisoning on. */
      const setup = (): { b: Booted; a: PhysAddr; freed: PhysAddr } => {
        const b = bootWith(16 << 20, strategy, { poison: true });
        const a = b.alloc.alloc()!;
        const freed = b.alloc.alloc()!;
        b.alloc.alloc();
        b.alloc.free(freed);
        return { b, a, freed };
      };

      it('double free', () => {
        const { b, freed } = setup();
        rejects(
          b,
          (x) => x.free(freed),
          hex(freed),
          strategy === 'bitmap' ? /not allocated/ : /already free \(double free\)/,
        );
      });

      it('a frame never handed out', () => {
        const { b } = setup();
        const never = 0xf00000;
        rejects(
          b,
          (x) => x.free(p(never)),
          hex(never),
          strategy === 'list' ? /never allocated/ : /not allocated|already free/,
        );
      });

      it('reserved frames: frame 0, the kernel image, the multiboot info, the allocator metadata', () => {
        const { b } = setup();
        rejects(b, (x) => x.free(p(0)), '0x00000000', /reserved frame \(frame 0\)/);
        rejects(b, (x) => x.free(p(0x100000)), '0x00100000', /reserved frame \(kernel image\)/);
        rejects(b, (x) => x.free(p(0x9000)), '0x00009000', /reserved frame \(multiboot info\)/);
        const meta = b.alloc.metadata.base;
        rejects(b, (x) => x.free(meta), hex(meta), /reserved frame \(frame allocator metadata\)/);
      });

      it('misaligned addresses', () => {
        const { b, a } = setup();
        rejects(b, (x) => x.free(p(a + 4)), hex(a + 4), /not frame-aligned/);
        rejects(b, (x) => x.free(p(a + 0x800)), hex(a + 0x800), /not frame-aligned/);
      });

      it('addresses outside RAM: the legacy hole, the top of memory, beyond 4 GiB', () => {
        const { b } = setup();
        rejects(b, (x) => x.free(p(0xa0000)), '0x000A0000', /not usable RAM/);
        rejects(b, (x) => x.free(p(0x1000000)), '0x01000000', /not usable RAM/);
        rejects(b, (x) => x.free(p(0xfffff000)), '0xFFFFF000', /not usable RAM/);
        rejects(b, (x) => x.free(p(0x100000000)), '0x100000000', /not a 32-bit physical address/);
        rejects(b, (x) => x.free(p(-4096)), '-4096', /not a 32-bit physical address/);
      });

      it('out of memory returns null and changes nothing; a freed frame is then reusable', () => {
        const b = bootWith(
          [
            { base: 0, length: 0xa0000 },
            { base: 0x100000, length: 0x60000 },
          ],
          strategy,
          { lowMemory: 'reserve' },
        );
        const got: PhysAddr[] = [];
        for (let f = b.alloc.alloc(); f !== null; f = b.alloc.alloc()) got.push(f);
        expect(got.length).toBe(b.alloc.stats().usable);
        const image = ramImage(b);
        expect(b.alloc.alloc()).toBeNull();
        expect(b.alloc.allocContiguous(0)).toBeNull();
        expect(imageDiff(image, ramImage(b))).toBeNull();
        expect(b.alloc.stats().free).toBe(0);
        expect(b.alloc.audit()).toEqual([]);
        b.alloc.free(got[7]);
        expect(b.alloc.alloc()).toBe(got[7]);
      });
    });
  }

  it('buddy: freeing with the wrong order, or a frame inside a block, is rejected', () => {
    const b = bootWith(16 << 20, 'buddy');
    const block = b.alloc.allocContiguous(2)!;
    const single = b.alloc.alloc()!;
    rejects(b, (x) => x.free(block), hex(block), /allocated as an order-2 block, freed as order 0/);
    rejects(b, (x) => x.freeContiguous(single, 1), hex(single), /not aligned|allocated as an order-0 block/);
    rejects(b, (x) => x.free(p(block + 0x1000)), hex(block + 0x1000), /inside the allocated order-2 block/);
    rejects(b, (x) => x.freeContiguous(p(block + 0x1000), 2), hex(block + 0x1000), /not aligned to a 4-frame block/);
    rejects(b, (x) => x.freeContiguous(block, 11), hex(block), /order 11 is outside 0\.\.10/);
    b.alloc.freeContiguous(block, 2);
    rejects(b, (x) => x.free(p(block + 0x2000)), hex(block + 0x2000), /already free \(double free\)/);
  });

  it('bitmap: freeContiguous checks every frame before changing any', () => {
    const b = bootWith(16 << 20, 'bitmap');
    const block = b.alloc.allocContiguous(3)!;
    b.alloc.free(p(block + 5 * 4096));
    rejects(b, (x) => x.freeContiguous(block, 3), hex(block + 5 * 4096), /not allocated/);
  });

  it('list: contiguous blocks beyond one frame are refused with a clear error, state unchanged', () => {
    const b = bootWith(16 << 20, 'list');
    const stats = b.alloc.stats();
    expect(() => b.alloc.allocContiguous(3)).toThrow(PagelabError);
    expect(() => b.alloc.allocContiguous(3)).toThrow(/--frames buddy/);
    expect(b.alloc.stats()).toEqual(stats);
    const f = b.alloc.allocContiguous(0)!;
    b.alloc.freeContiguous(f, 0);
    expect(b.alloc.stats()).toEqual(stats);
  });

  it('list: a free frame written after it was freed is caught when its link is next read', () => {
    const b = bootWith(16 << 20, 'list');
    const a = b.alloc.alloc()!;
    const c = b.alloc.alloc()!;
    b.alloc.free(a);
    b.alloc.free(c);
    expect(b.alloc.alloc()).toBe(c); // LIFO; now a is the head and its link must be read from RAM
    b.machine.mem.write32(a, 0x12345); // use after free: the link is overwritten
    rejects(b, (x) => x.alloc(), hex(a), /free-list link corrupted/, false);
    expect(b.alloc.audit().join('\n')).toMatch(/links to non-usable/); // the corruption is still there, and reported
  });

  it('an order outside 0..10 is rejected without naming a frame', () => {
    for (const strategy of FRAME_STRATEGIES) {
      const b = bootWith(16 << 20, strategy);
      expect(() => b.alloc.allocContiguous(11)).toThrow(/^allocContiguous: order 11 is outside 0\.\.10$/);
      expect(() => b.alloc.allocContiguous(-1)).toThrow(FrameError);
    }
  });
});
