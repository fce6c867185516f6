// The frames a replacement policy manages: which page each holds, and the
// accessed (A) and dirty (D) bits the hardware would keep in its PTE.

/** A frame that holds no page. */
export const EMPTY = -1;

/** The state every policy sees: frame contents and the A/D bits of the page in each. */
export class FrameTable {
  /** `page[f]` is the page in frame f, or EMPTY. */
  readonly page: Float64Array;
  /** The accessed bit of frame f's page: set by every reference, cleared by policies that sample it. */
  readonly accessed: Uint8Array;
  /** The dirty bit of frame f's page: set by a write, cleared when the page is loaded. */
  readonly dirty: Uint8Array;
  /** Frames holding a page (they fill from frame 0 up). */
  used = 0;
  private readonly where = new Map<number, number>();

  constructor(readonly size: number) {
    this.page = new Float64Array(size).fill(EMPTY);
    this.accessed = new Uint8Array(size);
    this.dirty = new Uint8Array(size);
  }

  /** frameOf returns the frame holding `page`, or -1. */
  frameOf(page: number): number {
    return this.where.get(page) ?? -1;
  }

  /** load puts `page` into frame f (whose old page, if any, is gone) with A set and D as given. */
  load(f: number, page: number, write: boolean): void {
    const old = this.page[f];
    if (old === EMPTY) this.used++;
    else this.where.delete(old);
    this.page[f] = page;
    this.where.set(page, f);
    this.accessed[f] = 1;
    this.dirty[f] = write ? 1 : 0;
  }

  /** touch records a reference to the page in frame f (A, and D for a write). */
  touch(f: number, write: boolean): void {
    this.accessed[f] = 1;
    if (write) this.dirty[f] = 1;
  }

  /** full tells whether every frame holds a page. */
  get full(): boolean {
    return this.used === this.size;
  }
}
