// Corruption, one structure at a time: a word of the allocators' metadata in
// RAM is changed the way a buggy kernel or a stray write would (a physical
// write, behind the allocator's back), and the allocator either does what the
// C code would do on that memory or reports the corruption by name, changing
// nothing; audit() catches every one.
import { describe, expect, it } from 'vitest';
import { hex, type PhysAddr } from '../../../src/hw/addr.js';
import { H_HEADS, STATE_ALLOC, STATE_FREE } from '../../../src/kernel/frames/buddy.js';
import { H_HINT } from '../../../src/kernel/frames/bitmap.js';
import { FrameError, type FrameErrorKind, type FrameStructure } from '../../../src/kernel/frames/error.js';
import { H_FRONT_INDEX, H_FRONT_NEXT, H_HEAD } from '../../../src/kernel/frames/freelist.js';
import { H_NFREE, H_NRANGES } from '../../../src/kernel/frames/setup.js';
import type { FrameStrategy } from '../../../src/kernel/frames/api.js';
import { bootWith, imageDiff, ramImage, type Booted } from './helpers.js';

/** header gives the physical address of a header word. */
/** A machine small enough to fill: 640 KiB + 384 KiB, the low 1 MiB reserved (~70 frames). */
const TINY = [
  { base: 0, length: 0xa0000 },
  { base: 0x100000, length: 0x60000 },
];

const header = (b: Booted, off: number): number => b.alloc.metadata.base + off;
/** map gives the physical address of the per-frame map (the header's word 0x10). */
const map = (b: Booted): number => b.machine.mem.read32(header(b, 0x10));

/** caught runs a call that must throw FrameError of `kind` (and `structure`), and checks RAM is unchanged. */
function caught(b: Booted, call: () => unknown, kind: FrameErrorKind, structure: FrameStructure | null): FrameError {
  const image = ramImage(b);
  let error: unknown = null;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(FrameError);
  const f = error as FrameError;
  expect(f.kind).toBe(kind);
  expect(f.structure).toBe(structure);
  if (structure !== null) expect(f.message).toContain(`${structure} corrupted`);
  expect(imageDiff(image, ramImage(b))).toBeNull();
  return f;
}

/** audited: audit() reports something matching `finding`. */
function audited(b: Booted, finding: RegExp): void {
  expect(b.alloc.audit().join('\n')).toMatch(finding);
}

/** booted: 16 MiB, `n` frames allocated (returned). */
function booted(strategy: FrameStrategy, n: number): { b: Booted; got: PhysAddr[] } {
  const b = bootWith(16 << 20, strategy);
  const got: PhysAddr[] = [];
  for (let i = 0; i < n; i++) got.push(b.alloc.alloc()!);
  expect(b.alloc.audit()).toEqual([]);
  return { b, got };
}

describe('corruption: bitmap', () => {
  it('a bit cleared when every frame is allocated: the free count (0) says full, alloc returns null, as C', () => {
    const b = bootWith(TINY, 'bitmap', { lowMemory: 'reserve' });
    const got: PhysAddr[] = [];
    for (let f = b.alloc.alloc(); f !== null; f = b.alloc.alloc()) got.push(f);
    const pfn = got[5] / 4096;
    const word = map(b) + (pfn >>> 5) * 4;
    b.machine.mem.write32(word, b.machine.mem.read32(word) & ~(1 << (pfn & 31)));
    expect(b.alloc.alloc()).toBeNull();
    audited(b, /free count 0 but 1 clear bits in RAM/);
  });

  it('a bit cleared below the hint is not found (the scan starts at the hint), as C; audit names the hint', () => {
    const { b, got } = booted('bitmap', 100);
    const pfn = got[0] / 4096;
    const word = map(b) + (pfn >>> 5) * 4;
    b.machine.mem.write32(word, b.machine.mem.read32(word) & ~(1 << (pfn & 31)));
    b.machine.mem.write32(header(b, H_NFREE), b.machine.mem.read32(header(b, H_NFREE)) + 1); // a consistent count
    const next = b.alloc.alloc()!;
    expect(next).toBe(got[99] + 4096); // where the hint pointed, not the cleared frame
    audited(b, /hint \d+ is past free word \d+/);
  });

  it("a free frame's bit set behind the allocator: the count runs ahead of the map, caught on the last alloc", () => {
    const b = bootWith(TINY, 'bitmap', { lowMemory: 'reserve' });
    const first = b.alloc.alloc()!;
    b.alloc.free(first);
    const pfn = first / 4096 + 1; // a free frame
    const word = map(b) + (pfn >>> 5) * 4;
    b.machine.mem.write32(word, b.machine.mem.read32(word) | (1 << (pfn & 31)));
    audited(b, /free count \d+ but \d+ clear bits in RAM/);
    const got: PhysAddr[] = [];
    const e = (() => {
      try {
        for (let f = b.alloc.alloc(); f !== null; f = b.alloc.alloc()) got.push(f);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(FrameError);
    expect((e as FrameError).structure).toBe('free count');
    expect(got).not.toContain(pfn * 4096);
  });

  it('the free count set to 0: alloc returns null without scanning, as C; too large: free reports it', () => {
    const { b, got } = booted('bitmap', 3);
    b.machine.mem.write32(header(b, H_NFREE), 0);
    expect(b.alloc.alloc()).toBeNull();
    audited(b, /free count 0 but \d+ clear bits/);
    b.machine.mem.write32(header(b, H_NFREE), b.alloc.stats().usable);
    caught(b, () => b.alloc.free(got[0]), 'corrupted', 'free count');
    audited(b, /free count \d+ but \d+ clear bits/);
  });

  it('the hint set past the map: alloc reports the hint by name (a clear bit lies below it)', () => {
    const { b } = booted('bitmap', 3);
    b.machine.mem.write32(header(b, H_HINT), 0x7fffffff);
    caught(b, () => b.alloc.alloc(), 'corrupted', 'bitmap hint');
    audited(b, /hint \d+ is past/);
  });
});

describe('corruption: free list', () => {
  it("the link of the frame freed last overwritten (0x1234): the next alloc reports 'free-list link corrupted'", () => {
    const { b, got } = booted('list', 2);
    b.alloc.free(got[0]);
    b.alloc.free(got[1]);
    b.machine.mem.write32(got[1], 0x1234); // a use after free
    const e = caught(b, () => b.alloc.alloc(), 'corrupted', 'free-list link');
    expect(e.message).toContain(hex(got[1]));
    audited(b, /free list links to non-usable 4660/);
  });

  it('a link pointing at another free frame is followed, as C; audit sees the listed frame beyond the frontier', () => {
    const { b, got } = booted('list', 2);
    b.alloc.free(got[0]);
    const fresh = got[1] + 0x10000; // never handed out: beyond the frontier
    b.machine.mem.write32(got[0], fresh);
    expect(b.alloc.alloc()).toBe(got[0]);
    audited(b, new RegExp(`listed frame ${fresh} lies beyond the frontier`));
    expect(b.alloc.alloc()).toBe(fresh); // followed
    // when the frontier reaches that frame it finds it allocated: reported, not handed out twice
    const more: PhysAddr[] = [];
    const e = (() => {
      try {
        for (;;) more.push(b.alloc.alloc()!);
      } catch (err) {
        return err as FrameError;
      }
    })();
    expect(e.structure).toBe('frontier');
    expect(more).not.toContain(fresh);
  });

  it('the head set to 0: alloc takes the frontier instead, as C; the freed frame is lost and audit counts it', () => {
    const { b, got } = booted('list', 2);
    b.alloc.free(got[0]);
    b.machine.mem.write32(header(b, H_HEAD), 0);
    expect(b.alloc.alloc()).toBe(got[1] + 4096);
    audited(b, /free count \d+ but 0 listed \+ \d+ beyond the frontier/);
  });

  it("the head pointing at an allocated or a reserved frame: 'free-list head corrupted'", () => {
    const { b, got } = booted('list', 2);
    b.alloc.free(got[0]);
    b.machine.mem.write32(header(b, H_HEAD), got[1]);
    caught(b, () => b.alloc.alloc(), 'corrupted', 'free-list head');
    audited(b, new RegExp(`listed frame ${got[1]} is marked allocated`));
    b.machine.mem.write32(header(b, H_HEAD), 0x100000); // the kernel image
    caught(b, () => b.alloc.alloc(), 'corrupted', 'free-list head');
    audited(b, /free list links to non-usable 1048576/);
  });

  it("the frontier moved outside its range: 'frontier corrupted', and audit says so", () => {
    const { b } = booted('list', 2);
    b.machine.mem.write32(header(b, H_FRONT_NEXT), 0x7ffff);
    caught(b, () => b.alloc.alloc(), 'corrupted', 'frontier');
    audited(b, /frontier corrupted/);
    b.machine.mem.write32(header(b, H_FRONT_INDEX), 99);
    caught(b, () => b.alloc.alloc(), 'corrupted', 'frontier');
  });

  it('the free count set to 0 with frames listed: alloc reports the count', () => {
    const { b, got } = booted('list', 2);
    b.alloc.free(got[0]);
    b.machine.mem.write32(header(b, H_NFREE), 0);
    caught(b, () => b.alloc.alloc(), 'corrupted', 'free count');
    audited(b, /free count 0 but 1 listed/);
  });

  it("an allocated frame's allocation bit cleared: freeing it is a double free on that memory, as C", () => {
    const { b, got } = booted('list', 2);
    const pfn = got[0] / 4096;
    const word = map(b) + (pfn >>> 5) * 4;
    b.machine.mem.write32(word, b.machine.mem.read32(word) & ~(1 << (pfn & 31)));
    caught(b, () => b.alloc.free(got[0]), 'double-free', null);
    audited(b, /\d+ allocation bits set, expected \d+/);
  });
});

describe('corruption: buddy', () => {
  it('every order head zeroed: allocContiguous(0) finds nothing and returns null, as C; audit finds the lost blocks', () => {
    const { b } = booted('buddy', 0);
    for (let k = 0; k <= 10; k++) b.machine.mem.write32(header(b, H_HEADS + 4 * k), 0);
    expect(b.alloc.allocContiguous(0)).toBeNull();
    audited(b, /free block 0x[0-9A-F]+ of order \d+ is on no free list/);
    audited(b, /free count \d+ but the lists hold 0 frames/);
  });

  it("a head pointing at an allocated block: 'buddy list corrupted' before anything changes", () => {
    const { b, got } = booted('buddy', 2);
    b.machine.mem.write32(header(b, H_HEADS), got[0]);
    caught(b, () => b.alloc.alloc(), 'corrupted', 'buddy list');
    audited(b, /listed at order 0 has state 0x40/);
  });

  it("a free block's next link overwritten: the neighbour does not link back, reported by name", () => {
    const { b } = booted('buddy', 1); // the split left free blocks of orders 0..9 at the list heads
    const head = b.machine.mem.read32(header(b, H_HEADS + 4 * 3));
    b.machine.mem.write32(head, 0x00abc000); // next
    caught(b, () => b.alloc.allocContiguous(3), 'corrupted', 'buddy list');
    audited(b, /order 3|0x00ABC000|wrong prev link|non-usable|listed at order 3/);
  });

  it("an allocated frame's state byte set to FREE: freeing it is a double free on that memory; audit finds it", () => {
    const { b, got } = booted('buddy', 2);
    b.machine.mem.write8(map(b) + got[0] / 4096, STATE_FREE | 0);
    caught(b, () => b.alloc.free(got[0]), 'double-free', null);
    audited(b, new RegExp(`free block ${hex(got[0])} of order 0 is on no free list`));
  });

  it("a free head's state byte set to ALLOC: no merge with it (as C), and its list head is then reported", () => {
    const { b } = booted('buddy', 0);
    let a = b.alloc.alloc()!;
    while (b.machine.mem.read8(map(b) + (a ^ 4096) / 4096) !== STATE_FREE) a = b.alloc.alloc()!;
    const got = [a];
    const buddy = got[0] ^ 4096; // free at order 0 after the split
    expect(b.machine.mem.read8(map(b) + buddy / 4096)).toBe(STATE_FREE | 0);
    b.machine.mem.write8(map(b) + buddy / 4096, STATE_ALLOC | 0);
    audited(b, new RegExp(`block ${hex(buddy)} listed at order 0 has state 0x40`));
    b.alloc.free(got[0]); // the buddy does not look free: no merge
    expect(b.machine.mem.read8(map(b) + got[0] / 4096)).toBe(STATE_FREE | 0);
    b.machine.mem.write32(header(b, H_HEADS), buddy); // make the corrupted block the head again
    caught(b, () => b.alloc.alloc(), 'corrupted', 'buddy list');
  });

  it('the free count changed: alloc or free reports it; audit too', () => {
    const { b, got } = booted('buddy', 2);
    b.machine.mem.write32(header(b, H_NFREE), 0);
    caught(b, () => b.alloc.alloc(), 'corrupted', 'free count');
    audited(b, /free count 0 but the lists hold \d+ frames/);
    b.machine.mem.write32(header(b, H_NFREE), b.alloc.stats().usable);
    caught(b, () => b.alloc.free(got[0]), 'corrupted', 'free count');
  });
});

describe('corruption: the usable-range table', () => {
  for (const strategy of ['bitmap', 'list', 'buddy'] as const) {
    it(`${strategy}: a range count beyond the table's room is reported by free(); audit names it`, () => {
      const { b, got } = booted(strategy, 2);
      b.machine.mem.write32(header(b, H_NRANGES), 0x10000);
      b.machine.mem.write32(header(b, 0x80), 0x7fff0); // and range 0 no longer holds the frame: the search runs
      caught(b, () => b.alloc.free(got[0]), 'corrupted', 'range table');
      audited(b, /range count in RAM is 65536/);
    });
  }
});
