// ARC, the adaptive replacement cache (Megiddo and Modha, FAST 2003), as a
// page-replacement policy: T1 holds pages referenced once lately, T2 pages
// referenced at least twice; B1 and B2 remember (without frames) the pages
// last evicted from each, and a reference to one of those moves the target
// size p of T1 toward the list that would have kept it.

import type { FrameTable } from './frames.js';
import type { Policy } from './policies.js';

/** An LRU-ordered set: a Map's insertion order, oldest first. */
type LruList = Map<number, true>;

/** oldest returns the least recently inserted page of a non-empty list. */
function oldest(l: LruList): number {
  return l.keys().next().value as number;
}

/** ARC over the frames of a FrameTable (c = the number of frames). */
export class ArcPolicy implements Policy {
  private readonly t1: LruList = new Map();
  private readonly t2: LruList = new Map();
  private readonly b1: LruList = new Map();
  private readonly b2: LruList = new Map();
  /** The target size of T1. */
  private p = 0;
  /** Whether the page being loaded was found in a ghost list (it then goes to T2). */
  private ghostHit = false;

  constructor(private readonly table: FrameTable) {}

  tick(): void {}

  /** hit: case I, the page moves to T2's most recent end. */
  hit(f: number): void {
    const page = this.table.page[f];
    this.t1.delete(page);
    this.t2.delete(page);
    this.t2.set(page, true);
  }

  /** victim: cases II-IV of the paper for a miss with every frame full. */
  victim(page: number): number {
    const c = this.table.size;
    this.ghostHit = this.b1.has(page) || this.b2.has(page);
    if (this.b1.has(page)) {
      this.p = Math.min(c, this.p + Math.max(this.b2.size / this.b1.size, 1));
      this.b1.delete(page);
      return this.replace(false);
    }
    if (this.b2.has(page)) {
      this.p = Math.max(0, this.p - Math.max(this.b1.size / this.b2.size, 1));
      this.b2.delete(page);
      return this.replace(true);
    }
    if (this.t1.size + this.b1.size === c) {
      if (this.t1.size === c) return this.evict(this.t1, null);
      this.b1.delete(oldest(this.b1));
    } else if (this.t1.size + this.t2.size + this.b1.size + this.b2.size >= 2 * c) {
      this.b2.delete(oldest(this.b2));
    }
    return this.replace(false);
  }

  /** loaded: a page from a ghost list joins T2, any other T1. */
  loaded(_f: number, page: number): void {
    (this.ghostHit ? this.t2 : this.t1).set(page, true);
    this.ghostHit = false;
  }

  /** replace evicts T1's oldest page to B1 when T1 is over its target (or T2 is empty), else T2's oldest to B2. */
  private replace(inB2: boolean): number {
    const n1 = this.t1.size;
    const fromT1 = n1 >= 1 && ((inB2 && n1 === this.p) || n1 > this.p);
    if (fromT1 || this.t2.size === 0) return this.evict(this.t1, this.b1);
    return this.evict(this.t2, this.b2);
  }

  /** evict takes the oldest page of a resident list (remembered in `ghost`, if given) and returns its frame. */
  private evict(from: LruList, ghost: LruList | null): number {
    const page = oldest(from);
    from.delete(page);
    ghost?.set(page, true);
    return this.table.frameOf(page);
  }
}
