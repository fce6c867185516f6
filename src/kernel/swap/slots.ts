// The swap slot map in kernel RAM, a C struct on the kernel heap (little-endian u32s):
//   0x00 magic 'SWP1' | 0x04 nslots | 0x08 nfree | 0x0C words (bitmap u32 words)
//   0x10 bitmap[words] (1 = slot in use) | then count[nslots] (u32: the PTEs naming the slot, as swap_map)
// A page shared after fork keeps one slot: each sharer's swap entry is one count.
import { PagelabError } from '../../errors.js';
import type { Machine } from '../../hw/machine.js';
import type { LinAddr } from '../../hw/addr.js';
import type { KernelHeap } from '../heap/api.js';

const MAGIC = 0x31505753; // 'SWP1'
const H_NSLOTS = 0x04;
const H_NFREE = 0x08;
const H_WORDS = 0x0c;
const H_BITMAP = 0x10;

/** A rejected slot-map call or corruption found in it (`structure` names what is corrupted). */
export class SwapSlotError extends PagelabError {
  constructor(
    message: string,
    readonly structure: string | null = null,
  ) {
    super(message);
  }
}

/** The slot map: alloc, dup (one more sharer), put (one fewer; the last frees the slot), audit. */
export class SwapSlots {
  private constructor(
    private readonly m: Machine,
    readonly base: number,
  ) {}

  /** create lays out a map of nslots free slots on the kernel heap. */
  static create(m: Machine, heap: KernelHeap, nslots: number): SwapSlots {
    const words = Math.ceil(nslots / 32);
    const p: LinAddr | null = heap.kmalloc(H_BITMAP + 4 * words + 4 * nslots);
    if (p === null) throw new SwapSlotError(`no kernel heap for a swap map of ${nslots} slots`);
    const b = p as number;
    for (let i = 0; i < words + nslots; i++) m.write32(b + H_BITMAP + 4 * i, 0);
    m.write32(b, MAGIC);
    m.write32(b + H_NSLOTS, nslots);
    m.write32(b + H_NFREE, nslots);
    m.write32(b + H_WORDS, words);
    return new SwapSlots(m, b);
  }

  /** size is the number of slots, read from the header. */
  size(): number {
    return this.nslots();
  }

  /** nfree is the free-slot count read from RAM. */
  nfree(): number {
    return this.m.read32(this.base + H_NFREE);
  }

  /** count is the number of PTEs naming slot s. */
  count(s: number): number {
    this.check(s);
    return this.m.read32(this.countAt(s));
  }

  /** alloc takes the lowest free slot with a count of 1, or null when none is free. */
  alloc(): number | null {
    if (this.nfree() === 0) return null;
    const words = this.m.read32(this.base + H_WORDS);
    for (let w = 0; w < words; w++) {
      const v = this.m.read32(this.base + H_BITMAP + 4 * w);
      if (v === 0xffffffff) continue;
      const bit = 31 - Math.clz32(~v & (v + 1));
      const s = w * 32 + bit;
      if (s >= this.nslots()) break;
      if (this.m.read32(this.countAt(s)) !== 0) throw this.corrupt('swap bitmap', `slot ${s} free with a count`);
      this.m.write32(this.base + H_BITMAP + 4 * w, (v | (1 << bit)) >>> 0);
      this.m.write32(this.countAt(s), 1);
      this.m.write32(this.base + H_NFREE, this.nfree() - 1);
      return s;
    }
    throw this.corrupt('swap free count', `${this.nfree()} free but no free bit`);
  }

  /** dup adds a sharer to an allocated slot (fork copying a swap entry). */
  dup(s: number): void {
    const c = this.inUse(s, 'dup');
    this.m.write32(this.countAt(s), c + 1);
  }

  /** put drops one sharer of slot s; the last one frees it. A free slot is a double free. */
  put(s: number): void {
    const c = this.inUse(s, 'free');
    this.m.write32(this.countAt(s), c - 1);
    if (c > 1) return;
    const at = this.base + H_BITMAP + 4 * (s >>> 5);
    this.m.write32(at, (this.m.read32(at) & ~(1 << (s & 31))) >>> 0);
    this.m.write32(this.base + H_NFREE, this.nfree() + 1);
  }

  /** audit checks every bitmap word against the counts and nfree; throws naming the structure. */
  audit(): void {
    if (this.m.read32(this.base) !== MAGIC) throw this.corrupt('swap map header', 'bad magic');
    let used = 0;
    for (let s = 0; s < this.nslots(); s++) {
      const bit = this.bit(s);
      const c = this.m.read32(this.countAt(s));
      if (bit !== c > 0) throw this.corrupt('swap bitmap', `word ${s >>> 5}: slot ${s} bit ${+bit}, count ${c}`);
      if (bit) used++;
    }
    if (this.nslots() - used !== this.nfree()) throw this.corrupt('swap free count', `${this.nfree()} != free bits`);
  }

  /** inUse returns slot s's count after checking bit and count agree that it is allocated. */
  private inUse(s: number, op: string): number {
    this.check(s);
    const c = this.m.read32(this.countAt(s));
    if (!this.bit(s)) {
      if (c !== 0) throw this.corrupt('swap bitmap', `word ${s >>> 5}: slot ${s} clear with count ${c}`);
      throw new SwapSlotError(`swap ${op} of slot ${s}: not allocated (double free?)`);
    }
    if (c === 0) throw this.corrupt('swap count', `slot ${s} in use with count 0 (underflow)`);
    return c;
  }

  /** bit reads slot s's bitmap bit. */
  private bit(s: number): boolean {
    return ((this.m.read32(this.base + H_BITMAP + 4 * (s >>> 5)) >>> (s & 31)) & 1) === 1;
  }

  /** countAt is the linear address of slot s's count. */
  private countAt(s: number): number {
    return this.base + H_BITMAP + 4 * this.m.read32(this.base + H_WORDS) + 4 * s;
  }

  /** nslots reads the slot count from the header. */
  private nslots(): number {
    return this.m.read32(this.base + H_NSLOTS);
  }

  /** check rejects a slot number out of range. */
  private check(s: number): void {
    if (!Number.isInteger(s) || s < 0 || s >= this.nslots()) throw new SwapSlotError(`swap slot ${s} out of range`);
  }

  /** corrupt makes the error naming a corrupted structure. */
  private corrupt(structure: string, why: string): SwapSlotError {
    return new SwapSlotError(`${structure} corrupted (${why})`, structure);
  }
}
