// The TLB: cached translations with their permissions and dirty state
// (SDM 4.10.2). Geometry is a parameter: none, direct-mapped, set-associative
// or fully associative, LRU within a set. Entries live in typed arrays; the
// lookup is a few array reads and allocates nothing.

import { PagelabError } from '../errors.js';
import { FNV_OFFSET } from './fnv.js';

export type TlbGeometry =
  | { readonly kind: 'none' }
  | { readonly kind: 'direct'; readonly entries: number }
  | { readonly kind: 'set'; readonly sets: number; readonly ways: number }
  | { readonly kind: 'full'; readonly entries: number };

/**
 * Rights cached per entry: which (privilege, access) pairs the translation
 * allows. Fetches need the read right (no NX in 32-bit paging).
 */
export const RIGHT_SUP_READ = 1;
export const RIGHT_SUP_WRITE = 2;
export const RIGHT_USER_READ = 4;
export const RIGHT_USER_WRITE = 8;

/** Entry flags. */
export const TLBF_GLOBAL = 1;
export const TLBF_LARGE = 2; // a 4 KiB piece of a 4 MiB page (SDM 4.10.2.3 allows such splitting)
export const TLBF_DIRTY = 4;
/**
 * Never in the hit word (its rights are protect.ts's PROT_* bits, fetch rights included): PAE, SMEP and SMAP
 * translations, which only the MMU's slower path (translateExt) looks up.
 */
export const TLBF_SLOW = 8;

/** The LRU clock is renumbered before it passes this (int32 stamps). */
const CLOCK_LIMIT = 0x3fffffff;

/** Pages of the 32-bit linear address space: the length of the per-page arrays. */
const PAGES = 1 << 20;
/** Hit word: bit 4 set for every cached page, the frame from bit 5, the usable RIGHT_* bits in bits 3:0. */
const HIT_VALID = 16;
const HIT_PFN_SHIFT = 5;
/** Frames from here on (physical 256 GiB, PSE-36 only) do not fit a hit word: such pages never hit in it. */
const HIT_PFN_LIMIT = 1 << 26;
/** The hit words of a TLB with no entries: all zero, shared, never written. */
const NO_HIT_WORDS = new Int32Array(PAGES);

/** hitWordOf is the hit word of a cached page: valid, its frame and its usable rights. */
function hitWordOf(pfn: number, rights: number): number {
  return pfn < HIT_PFN_LIMIT ? (pfn << HIT_PFN_SHIFT) | HIT_VALID | rights : HIT_VALID;
}

/** The default: 64 entries, 4-way set-associative, like many IA-32 data TLBs. */
export const DEFAULT_TLB: TlbGeometry = { kind: 'set', sets: 16, ways: 4 };

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** parseTlb reads `none`, `dm:N`, `fa:N` or `sa:SETSxWAYS` (N, SETS powers of two). */
export function parseTlb(spec: string): TlbGeometry {
  const m = /^(?:(none)|(dm|fa):(\d+)|sa:(\d+)x(\d+))$/.exec(spec);
  if (m === null) throw new PagelabError(`bad TLB spec '${spec}': expected none, dm:N, fa:N or sa:SETSxWAYS`);
  if (m[1] === 'none') return { kind: 'none' };
  if (m[2] === 'dm' || m[2] === 'fa') {
    const n = Number(m[3]);
    if (m[2] === 'dm' && !isPow2(n)) throw new PagelabError(`bad TLB spec '${spec}': dm:N needs N a power of two`);
    if (n < 1 || n > 65536) throw new PagelabError(`bad TLB spec '${spec}': N must be 1..65536`);
    return m[2] === 'dm' ? { kind: 'direct', entries: n } : { kind: 'full', entries: n };
  }
  const sets = Number(m[4]);
  const ways = Number(m[5]);
  if (!isPow2(sets) || ways < 1 || sets * ways > 65536) {
    throw new PagelabError(`bad TLB spec '${spec}': SETS must be a power of two and SETS*WAYS at most 65536`);
  }
  return { kind: 'set', sets, ways };
}

/** formatTlb is the inverse of parseTlb. */
export function formatTlb(g: TlbGeometry): string {
  switch (g.kind) {
    case 'none':
      return 'none';
    case 'direct':
      return `dm:${g.entries}`;
    case 'full':
      return `fa:${g.entries}`;
    case 'set':
      return `sa:${g.sets}x${g.ways}`;
  }
}

export class Tlb {
  readonly geometry: TlbGeometry;
  readonly sets: number;
  readonly ways: number;
  readonly setMask: number;
  /** Virtual page number of each entry, -1 when invalid. */
  readonly vpn: Int32Array;
  /** Physical page number. */
  readonly pfn: Int32Array;
  /** RIGHT_* bits usable without further work (write rights only once dirty). */
  readonly rights: Uint8Array;
  /** RIGHT_* bits the translation allows at all (write rights even when clean). */
  readonly allowed: Uint8Array;
  readonly flags: Uint8Array;
  /** Physical address of the leaf entry (PTE, or PDE of a 4 MiB page). */
  readonly leafAddr: Float64Array;
  /** Last use of each virtual page (for LRU within a set; indexed by vpn, not slot). */
  private stampOf: Int32Array;
  /**
   * vpn -> slot caching it, valid only where hitWord is not 0: an O(1) index
   * over all sets (with one way per set the slot is implied and this is empty).
   */
  private slotOf: Uint16Array;
  /**
   * vpn -> hit word of the cached entry (0: not cached): HIT_VALID, pfn << 5
   * and the usable rights (hitWordOf). The MMU's hit test is one read of this
   * and an AND with the needed right. Kept in step with vpn, pfn and rights
   * by insert and drop. Until the first fill (and always when
   * there are no entries) it is a shared array of zeros: a machine that never
   * caches a translation allocates none of the per-page arrays.
   */
  private _hitWord: Int32Array = NO_HIT_WORDS;
  /** Whether hits must record recency (more than one way per set). */
  readonly lru: boolean;
  private _clock = 0;
  /** The page stamped last (-1: none): it is already most recently used, so its hits need no new stamp. */
  private mru = -1;
  /** The digest hitDigest() ended with (a double from the start, as Mmu.digest explains). */
  private _digest = FNV_OFFSET;
  private largeCount = 0;
  // Counters (read through their getters, zeroed by resetCounters).
  private _fills = 0;
  private _evictions = 0;
  private _flushes = 0;
  private _invlpgs = 0;

  constructor(geometry: TlbGeometry = DEFAULT_TLB) {
    this.geometry = geometry;
    [this.sets, this.ways] =
      geometry.kind === 'none'
        ? [0, 0]
        : geometry.kind === 'direct'
          ? [geometry.entries, 1]
          : geometry.kind === 'full'
            ? [1, geometry.entries]
            : [geometry.sets, geometry.ways];
    this.setMask = Math.max(this.sets - 1, 0);
    const n = Math.max(this.sets * this.ways, 1);
    this.vpn = new Int32Array(n).fill(-1);
    this.pfn = new Int32Array(n);
    this.rights = new Uint8Array(n);
    this.allowed = new Uint8Array(n);
    this.flags = new Uint8Array(n);
    this.leafAddr = new Float64Array(n);
    this.lru = this.ways > 1;
    this.slotOf = new Uint16Array(1);
    this.stampOf = new Int32Array(1);
  }

  /** allocatePages gives the TLB its own per-page arrays, at its first fill. */
  private allocatePages(): void {
    this._hitWord = new Int32Array(PAGES);
    if (this.lru === false) return;
    this.slotOf = new Uint16Array(PAGES);
    this.stampOf = new Int32Array(PAGES);
  }

  get entries(): number {
    return this.sets * this.ways;
  }

  /** The per-page hit words (read-only outward: the MMU's hit test reads them; insert and drop keep them). */
  get hitWord(): Int32Array {
    return this._hitWord;
  }
  /** The LRU clock: the last stamp given. */
  get clock(): number {
    return this._clock;
  }
  /** The digest hitDigest() ended with. */
  get digest(): number {
    return this._digest;
  }
  /** Translations cached. */
  get fills(): number {
    return this._fills;
  }
  /** Valid entries replaced by another page's. */
  get evictions(): number {
    return this._evictions;
  }
  /** Whole-TLB flushes (MOV to CR3, CR0, CR4). */
  get flushes(): number {
    return this._flushes;
  }
  /** INVLPGs. */
  get invlpgs(): number {
    return this._invlpgs;
  }

  /**
   * advanceClock moves the LRU clock on to `stamp`, as that many hits would (a billion hits take a test
   * too long): the stamps already given keep their order. The clock never goes back.
   */
  advanceClock(stamp: number): void {
    if (!Number.isInteger(stamp) || stamp < this._clock || stamp > CLOCK_LIMIT)
      throw new PagelabError(`LRU clock: cannot move from ${this._clock} to ${stamp}`);
    this._clock = stamp;
  }

  /** resetCounters zeroes the counters (not the entries). */
  resetCounters(): void {
    this._fills = this._evictions = this._flushes = this._invlpgs = 0;
  }

  /** find returns the slot caching virtual page `vpn`, or -1; a hit becomes most recently used. */
  find(vpn: number): number {
    const i = this.slotFor(vpn & 0xfffff);
    if (i >= 0) this.touch(i);
    return i;
  }

  /** slotFor returns the slot caching virtual page `vpn`, or -1; changes nothing. */
  private slotFor(vpn: number): number {
    if (this._hitWord[vpn] === 0) return -1;
    return this.lru === true ? this.slotOf[vpn] : vpn & this.setMask;
  }

  /** touch marks slot i most recently used. */
  touch(i: number): void {
    if (this.lru) this.touchPage(this.vpn[i]);
  }

  /** touchPage marks the cached page vpn most recently used (the MMU's hit path). */
  touchPage(vpn: number): void {
    if (vpn === this.mru) return;
    if (this._clock >= CLOCK_LIMIT) this.renumber();
    this.stampOf[vpn] = ++this._clock;
    this.mru = vpn;
  }

  /**
   * renumber rewrites the stamps of the cached pages as their ranks 1..n, in
   * the same order, so the int32 clock never overflows.
   */
  private renumber(): void {
    const live: number[] = [];
    for (let i = 0; i < this.vpn.length; i++) if (this.vpn[i] !== -1) live.push(this.vpn[i]);
    live.sort((a, b) => this.stampOf[a] - this.stampOf[b]);
    live.forEach((v, rank) => (this.stampOf[v] = rank + 1));
    this.mru = -1; // its page may not be cached now, and so keep its old stamp
    this._clock = live.length;
  }

  /**
   * hitDigest looks up the accesses (lin[i], kind[i]) for i from start to
   * stop while each hits an entry that grants its right (needRead, shifted
   * left by one for a write), marking it most recently used and folding the
   * low 32 bits of its physical address into the FNV-1a digest `h`; returns
   * the index of the first access that does not hit, the digest in `digest`.
   * The replay's hot path: one loop, no call, no store but the LRU stamp.
   */
  hitDigest(lin: Uint32Array, kind: Uint8Array, start: number, stop: number, needRead: number, h: number): number {
    return this.lru === true
      ? this.hitDigestLru(lin, kind, start, stop, needRead, h)
      : this.hitDigestPlain(lin, kind, start, stop, needRead, h);
  }

  /** hitDigestPlain is hitDigest for one way per set: no recency to record. */
  private hitDigestPlain(
    lin: Uint32Array,
    kind: Uint8Array,
    start: number,
    stop: number,
    needRead: number,
    h: number,
  ): number {
    const hitWord = this._hitWord;
    let d = h | 0;
    let i = start;
    for (; i < stop; i++) {
      const a = lin[i];
      const word = hitWord[a >>> 12];
      if ((word & (needRead << (kind[i] & 1))) === 0) break;
      d = Math.imul(d ^ (((word << 7) & ~0xfff) | (a & 0xfff)), 16777619); // fnvStep, inlined (fnv.ts)
    }
    this._digest = d >>> 0;
    return i;
  }

  /**
   * hitDigestLru is hitDigest that stamps each hit page most recently used
   * (a run of hits on the page stamped last needs no stamp: it already is).
   */
  private hitDigestLru(
    lin: Uint32Array,
    kind: Uint8Array,
    start: number,
    stop: number,
    needRead: number,
    h: number,
  ): number {
    if (this._clock > CLOCK_LIMIT - (stop - start)) this.renumber();
    const hitWord = this._hitWord;
    const stampOf = this.stampOf;
    let clock = this._clock;
    let mru = this.mru;
    let d = h | 0;
    let i = start;
    for (; i < stop; i++) {
      const a = lin[i];
      const vpn = a >>> 12;
      const word = hitWord[vpn];
      if ((word & (needRead << (kind[i] & 1))) === 0) break;
      if (vpn !== mru) {
        stampOf[vpn] = ++clock;
        mru = vpn;
      }
      d = Math.imul(d ^ (((word << 7) & ~0xfff) | (a & 0xfff)), 16777619); // fnvStep, inlined (fnv.ts)
    }
    this._clock = clock;
    this.mru = mru;
    this._digest = d >>> 0;
    return i;
  }

  /** insert caches a translation, replacing an invalid or the least recently used way of its set. */
  insert(vpn: number, pfn: number, allowed: number, dirty: boolean, flags: number, leafAddr: number): void {
    if (this.sets === 0) return;
    if (this._hitWord === NO_HIT_WORDS) this.allocatePages();
    const i = this.victim(vpn);
    const old = this.vpn[i];
    if (old !== -1) {
      if (old !== vpn) this._evictions++;
      this.drop(i);
    }
    const rights = dirty === true ? allowed : allowed & ~(RIGHT_SUP_WRITE | RIGHT_USER_WRITE);
    this.vpn[i] = vpn;
    this.pfn[i] = pfn;
    this.allowed[i] = allowed;
    this.rights[i] = rights;
    this.flags[i] = dirty === true ? flags | TLBF_DIRTY : flags;
    this.leafAddr[i] = leafAddr;
    this._hitWord[vpn] = (flags & TLBF_SLOW) !== 0 ? HIT_VALID : hitWordOf(pfn, rights);
    if ((flags & TLBF_LARGE) !== 0) this.largeCount++;
    this._fills++;
    if (this.lru === false) return;
    this.slotOf[vpn] = i;
    this.touchPage(vpn);
  }

  /**
   * invalidatePage drops every entry for the page holding `linear`, including
   * all pieces of a 4 MiB or 2 MiB page that contains it (SDM 4.10.4.1, INVLPG;
   * pieces of other large pages in the same 4 MiB region go too, which is allowed).
   */
  invalidatePage(linear: number): void {
    this._invlpgs++;
    this.dropPage(linear);
  }

  /**
   * dropPage removes the translations of the page holding `linear` without
   * counting an INVLPG (a page fault does this too, SDM 4.10.4.1).
   */
  dropPage(linear: number): void {
    const vpn = linear >>> 12;
    const slot = this.find(vpn);
    if (slot >= 0) this.drop(slot);
    if (this.largeCount === 0) return;
    const region = linear >>> 22;
    for (let i = 0; i < this.vpn.length; i++) {
      if (this.vpn[i] !== -1 && this.flags[i] & TLBF_LARGE && this.vpn[i] >>> 10 === region) this.drop(i);
    }
  }

  /** flush drops all entries, or all but global ones (SDM 4.10.4.1, MOV to CR3). */
  flush(keepGlobal: boolean): void {
    this._flushes++;
    for (let i = 0; i < this.vpn.length; i++) {
      if (this.vpn[i] === -1 || (keepGlobal && this.flags[i] & TLBF_GLOBAL)) continue;
      this.drop(i);
    }
  }

  /** Valid entries now cached. */
  occupancy(): number {
    let n = 0;
    for (let i = 0; i < this.vpn.length; i++) if (this.vpn[i] !== -1) n++;
    return n;
  }

  private drop(i: number): void {
    if (this.flags[i] & TLBF_LARGE) this.largeCount--;
    this._hitWord[this.vpn[i]] = 0;
    this.vpn[i] = -1;
    this.flags[i] = 0;
  }

  /**
   * victim picks the slot to fill for vpn: the entry already caching vpn, an
   * invalid way, else the least recently used.
   */
  private victim(vpn: number): number {
    const cached = this.slotFor(vpn);
    if (cached >= 0) return cached;
    const base = (vpn & this.setMask) * this.ways;
    if (this.lru === false) return base; // one way: no choice (and no stamps kept)
    const vpns = this.vpn;
    const stampOf = this.stampOf;
    let best = base;
    let bestStamp = 0x7fffffff;
    for (let i = base; i < base + this.ways; i++) {
      const v = vpns[i];
      if (v === -1) return i;
      const stamp = stampOf[v];
      if (stamp < bestStamp) {
        best = i;
        bestStamp = stamp;
      }
    }
    return best;
  }
}
