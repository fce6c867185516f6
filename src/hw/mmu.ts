// The MMU: control registers, CPL, the TLB and the page walk behind it.
// translate() is the hot path: on a TLB hit it is a few typed-array reads,
// allocates nothing and throws nothing; a fault returns -1 and leaves the
// linear address in CR2 and the error code in faultCode.

import { hex } from './addr.js';
import { FNV_OFFSET } from './fnv.js';
import type { PhysicalMemory } from './memory.js';
import { ACCESS_FETCH, ACCESS_WRITE, GeneralProtection, type AccessKind } from './fault.js';
import { loadPdptes, paeWalk, PaeWalkState, PdpteRegs, type PaeMode, type PagingProfile } from './pae.js';
import { CR4_SMAP, CR4_SMEP, EFER_NXE, PROT_USER_READ, protNeed } from './protect.js';
import { protWalk32 } from './walkprot.js';
import {
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_PAE,
  CR4_PGE,
  CR4_PSE,
  FRAME_MASK,
  PTE_D,
  PTE_G,
  PTE_RW,
  PTE_US,
} from './paging.js';
import { DEFAULT_TLB, TLBF_GLOBAL, TLBF_LARGE, TLBF_SLOW, Tlb, type TlbGeometry } from './tlb.js';
import {
  fastEntryBits,
  fastPdeAddr,
  fastPteAddr,
  needOf,
  rightsOf,
  largeReservedMask,
  walk,
  walkFast,
  WalkState,
  type AccessedOrder,
  type MaxPhysAddr,
  type PagingMode,
  type RsvdErrorCode,
} from './walk.js';

/**
 * Module-local copies of the flags the miss path uses: V8 folds a module's
 * own constants into its code but reloads imported ones on every use.
 */
const FRAME_BITS = FRAME_MASK;
const RW_US_BITS = PTE_RW | PTE_US;
const G_BIT = PTE_G;
const D_BIT = PTE_D;
const PGE_BIT = CR4_PGE;
const TLB_GLOBAL = TLBF_GLOBAL;
const TLB_LARGE = TLBF_LARGE;

/** CR0.NW and CR0.CD (SDM 2.5): a MOV to CR0 changing them reloads the PDPTEs under PAE paging (SDM 4.4.1). */
const CR0_NW = 1 << 29;
const CR0_CD = 1 << 30;
/** The EFER bits this machine models (NXE); WRMSR of any other is refused. */
const EFER_MODELLED = EFER_NXE;
/** CR4 bits whose change flushes the TLB here: cached rights embed PSE, PGE, PAE, SMEP and SMAP. */
const CR4_FLUSH = CR4_PGE | CR4_PSE | CR4_PAE | CR4_SMEP | CR4_SMAP;
/** CR4 bits that take the slower translateExt path (PAE entries, fetch rights, SMAP's AC check). */
const CR4_EXT = CR4_PAE | CR4_SMEP | CR4_SMAP;

/** translateDigest handles at most this many accesses per call (the TLB's int32 LRU clock stays in range). */
export const MAX_DIGEST_RUN = 1 << 24;

export interface MmuCounters {
  hits: number;
  misses: number;
  walks: number;
  dirtySets: number;
  faults: number;
  fills: number;
  evictions: number;
  flushes: number;
  invlpgs: number;
}

export class Mmu implements PagingMode, PaeMode {
  readonly mem: PhysicalMemory;
  readonly tlb: Tlb;
  accessedOrder: AccessedOrder;
  rsvdErrorCode: RsvdErrorCode;
  /** MAXPHYADDR: how many bits of a 4 MiB PDE (PSE-36) are address bits rather than reserved. */
  readonly maxPhysAddr: MaxPhysAddr;
  readonly largeReserved: number;
  /** Where PAE paging follows the SDM or QEMU 7.2 (pae.ts): PDPTE registers or re-reads, #GP at MOV CR3. */
  readonly profile: PagingProfile;
  /** The PDPTE registers, loaded at MOV CR3 (and CR0/CR4 writes) under PAE paging with the 'sdm' profile. */
  readonly pdptes = new PdpteRegs();
  /** What the last walk of the slower path (PAE, or 32-bit with SMEP/SMAP) saw (reused). */
  readonly lastProtWalk = new PaeWalkState();
  private _efer = 0;
  private _ac = false;
  /** CR4.PAE, SMEP or SMAP is set: misses and hits go through translateExt. */
  private ext = false;
  private _cr0 = 0;
  private _cr3 = 0;
  private _cr4 = 0;
  private _cpl: 0 | 3 = 0;
  private _cr2 = 0;
  private _faultCode = 0;
  private _hits = 0;
  private _misses = 0;
  private _walks = 0;
  private _dirtySets = 0;
  private _faults = 0;
  private paging = false;
  private needRead = 1;
  private needWrite = 2;
  /** CR3's page-directory base as an int32 (walkFast). */
  private pdBase = 0;
  /** Entry bits walkFast() requires for a read and for a write at this CPL and CR0.WP. */
  private fastRead = 0;
  private fastWrite = 0;
  /** RIGHT_* bits a translation allows, by (U/S, R/W) of its entries' AND (index: their bits >> 1). */
  private readonly rightsByFlags = new Uint8Array(4);
  /**
   * The digest translateDigest() ended with. Starts as FNV-1a's offset basis
   * (the digest of nothing), a number above 2^30: V8 then stores this field as
   * a double from the first machine on, instead of changing the field's
   * representation mid-replay, which sends every later machine's optimized
   * replay code back to a slower recompilation ("wrong map").
   */
  private _digest = FNV_OFFSET;
  /** What the last full walk (not a walkFast one) saw (reused; copy it if you keep it). */
  readonly lastWalk = new WalkState();

  constructor(
    mem: PhysicalMemory,
    geometry: TlbGeometry = DEFAULT_TLB,
    accessedOrder: AccessedOrder = 'qemu',
    rsvdErrorCode: RsvdErrorCode = 'sdm',
    maxPhysAddr: MaxPhysAddr = 40,
    profile: PagingProfile = 'sdm',
  ) {
    this.profile = profile;
    this.mem = mem;
    this.tlb = new Tlb(geometry);
    this.accessedOrder = accessedOrder;
    this.rsvdErrorCode = rsvdErrorCode;
    this.maxPhysAddr = maxPhysAddr;
    this.largeReserved = largeReservedMask(maxPhysAddr);
    this.updateFast();
  }

  get cr0(): number {
    return this._cr0;
  }
  get cr3(): number {
    return this._cr3;
  }
  get cr4(): number {
    return this._cr4;
  }
  get cpl(): 0 | 3 {
    return this._cpl;
  }
  get pse(): boolean {
    return (this._cr4 & CR4_PSE) !== 0;
  }
  get pge(): boolean {
    return (this._cr4 & CR4_PGE) !== 0;
  }
  get wp(): boolean {
    return (this._cr0 & CR0_WP) !== 0;
  }
  /** IA32_EFER (SDM 2.2.1): only NXE (bit 11) is modelled. */
  get efer(): number {
    return this._efer;
  }
  /** CR4.PAE. */
  get pae(): boolean {
    return (this._cr4 & CR4_PAE) !== 0;
  }
  /** XD is honoured: EFER.NXE with PAE paging (SDM 4.1.3; 32-bit paging has no XD bit). */
  get nx(): boolean {
    return (this._efer & EFER_NXE) !== 0 && (this._cr4 & CR4_PAE) !== 0;
  }
  /** CR4.SMEP (bit 20). */
  get smep(): boolean {
    return (this._cr4 & CR4_SMEP) !== 0;
  }
  /** CR4.SMAP (bit 21). */
  get smap(): boolean {
    return (this._cr4 & CR4_SMAP) !== 0;
  }
  /** EFLAGS.AC: with SMAP, explicit supervisor data accesses to user-mode addresses are allowed when set. */
  get ac(): boolean {
    return this._ac;
  }
  get pagingEnabled(): boolean {
    return this.paging;
  }
  /** CR2: the linear address of the last page fault (SDM 4.7). */
  get cr2(): number {
    return this._cr2;
  }
  /** The error code of the last page fault. */
  get faultCode(): number {
    return this._faultCode;
  }
  /** Accesses translated from the TLB (counters: read here or in counters(), zeroed by resetCounters()). */
  get hits(): number {
    return this._hits;
  }
  /** Accesses that missed the TLB. */
  get misses(): number {
    return this._misses;
  }
  /** Page walks made for misses. */
  get walks(): number {
    return this._walks;
  }
  /** Re-walks that set D for the first write through a clean cached translation. */
  get dirtySets(): number {
    return this._dirtySets;
  }
  /** Page faults. */
  get faults(): number {
    return this._faults;
  }
  /** The digest the last translateDigest() ended with. */
  get digest(): number {
    return this._digest;
  }

  /**
   * translate maps a linear address for one access at the current CPL:
   * the physical address, or -1 after a page fault (CR2, faultCode set).
   * A hit is one read of the TLB's hit word for the page: its frame and the
   * rights usable without further work (ACCESS_WRITE is the only kind with
   * bit 0 set, and each write right is its read right shifted left by one).
   */
  translate(linear: number, kind: AccessKind): number {
    const p = this.translateHit(linear, kind);
    return p >= 0 ? p : this.translateSlow(linear, kind, kind === ACCESS_WRITE ? this.needWrite : this.needRead);
  }

  /**
   * translateHit is translate() for an access that hits the TLB with the
   * rights it needs (or any access with paging off); -1, with nothing
   * changed, for anything else. It makes no call V8 cannot inline, so a loop
   * over it (the trace replay's) has no call in it. Booleans are compared with
   * === rather than tested: V8 then emits one pointer compare.
   */
  translateHit(linear: number, kind: AccessKind): number {
    if (this.paging === false) return linear >>> 0;
    const tlb = this.tlb;
    const vpn = linear >>> 12;
    const word = tlb.hitWord[vpn];
    if ((word & (this.needRead << (kind & 1))) === 0) return -1;
    if (tlb.lru === true) tlb.touchPage(vpn);
    this._hits++;
    return (word >>> 5) * 4096 + (linear & 0xfff);
  }

  /**
   * translateDigest translates the accesses (lin[i], kind[i]) from start
   * while each is a plain TLB hit or a miss that walkFast() resolves (then
   * filled as translate() would), folding each physical address (its low 32
   * bits) into the FNV-1a digest h: h = (h XOR phys) * 16777619 mod 2^32.
   * Stops before end, before the first access that needs more (a fault, an
   * A or D flag to set, a right the cached entry lacks: translate() that
   * one), or after MAX_DIGEST_RUN accesses; returns where it stopped, the
   * digest in `digest`. A digest of every translation cross-checks a run bit
   * for bit against another implementation (the trace replay's phys_hash).
   */
  translateDigest(lin: Uint32Array, kind: Uint8Array, start: number, end: number, h: number): number {
    const stop = Math.min(end, start + MAX_DIGEST_RUN);
    if (this.paging === false) {
      let d = h | 0;
      let i = start;
      for (; i < stop; i++) d = Math.imul(d ^ lin[i], 16777619); // fnvStep, inlined (fnv.ts)
      this._digest = d >>> 0;
      return i;
    }
    if (this.ext === true) {
      this._digest = h >>> 0; // the slower path's accesses are translate()'s, one at a time
      return start;
    }
    return this.tlb.sets === 0
      ? this.walkDigest(lin, kind, start, stop, h)
      : this.hitOrFillDigest(lin, kind, start, stop, h);
  }

  /**
   * hitOrFillDigest is translateDigest with a TLB: runs of hits in the TLB's
   * own loop, and each miss walkFast() resolves walked and filled here.
   */
  private hitOrFillDigest(lin: Uint32Array, kind: Uint8Array, start: number, stop: number, h: number): number {
    const tlb = this.tlb;
    let d = h;
    let i = start;
    for (;;) {
      const j = tlb.hitDigest(lin, kind, i, stop, this.needRead, d);
      this._hits += j - i;
      d = tlb.digest;
      i = j;
      if (i === stop || tlb.hitWord[lin[i] >>> 12] !== 0) break; // cached but short of a right: translate() decides
      const a = lin[i];
      const write = (kind[i] & 1) === 1;
      const pte = walkFast(this.mem, this.pdBase, a, write === true ? this.fastWrite : this.fastRead, write);
      if (pte === 0) break;
      this._misses++;
      this._walks++;
      this.fillFast(a, pte, write);
      d = Math.imul(d ^ ((pte & FRAME_BITS) | (a & 0xfff)), 16777619) >>> 0; // fnvStep, inlined (fnv.ts)
      i++;
    }
    this._digest = d;
    return i;
  }

  /**
   * walkDigest is translateDigest without a TLB: every access is a miss and a
   * walk, as long as walkFast() resolves it.
   */
  private walkDigest(lin: Uint32Array, kind: Uint8Array, start: number, stop: number, h: number): number {
    const mem = this.mem;
    const pdBase = this.pdBase;
    const readBits = this.fastRead;
    const writeBits = this.fastWrite;
    let d = h | 0;
    let i = start;
    for (; i < stop; i++) {
      const a = lin[i];
      const write = (kind[i] & 1) === 1;
      const pte = walkFast(mem, pdBase, a, write === true ? writeBits : readBits, write);
      if (pte === 0) break;
      d = Math.imul(d ^ ((pte & FRAME_BITS) | (a & 0xfff)), 16777619); // fnvStep, inlined (fnv.ts)
    }
    this._misses += i - start;
    this._walks += i - start;
    this._digest = d >>> 0;
    return i;
  }

  /**
   * translateSlow handles what the hit word cannot: a write to a clean cached
   * page, or a miss and walk.
   */
  private translateSlow(linear: number, kind: AccessKind, need: number): number {
    if (this.ext === true) return this.translateExt(linear, kind);
    const tlb = this.tlb;
    const slot = tlb.find(linear >>> 12);
    if (slot >= 0) {
      if ((tlb.rights[slot] & need) !== 0) {
        this._hits++;
        return tlb.pfn[slot] * 4096 + (linear & 0xfff);
      }
      if ((tlb.allowed[slot] & need) !== 0) return this.setDirty(linear, kind);
      // The cached rights forbid it: walk again before faulting, as QEMU does.
    }
    this._misses++;
    return this.walkAndFill(linear, kind);
  }

  /**
   * walkAndFill walks for a TLB miss and caches the result: walkFast() for the
   * common case, walk() for everything else (faults, A/D updates, 4 MiB pages).
   */
  private walkAndFill(linear: number, kind: AccessKind): number {
    this._walks++;
    const write = kind === ACCESS_WRITE;
    const pte = walkFast(this.mem, this.pdBase, linear, write === true ? this.fastWrite : this.fastRead, write);
    if (pte !== 0) {
      this.fillFast(linear, pte, write);
      return ((pte & FRAME_BITS) >>> 0) + (linear & 0xfff);
    }
    return this.walkAndFillSlow(linear, kind);
  }

  /** fillFast caches what walkFast() found for `linear` (the PTE `pte`), as walkAndFillSlow would. */
  private fillFast(linear: number, pte: number, write: boolean): void {
    const pde = this.mem.readEntry(fastPdeAddr(this.pdBase, linear));
    const allowed = this.rightsByFlags[(pde & pte & RW_US_BITS) >>> 1];
    // SDM 4.8: the leaf is dirty after a write (walkFast found D set) or if D was set.
    const dirty = write === true || (pte & D_BIT) !== 0;
    this.fill(linear, pte >>> 12, allowed, dirty, (pte & G_BIT) !== 0, false, fastPteAddr(pde, linear) >>> 0);
  }

  /**
   * fill caches one translation of the page holding `linear`, for fillFast and fillFrom alike.
   * SDM 4.10.2.4: G is honoured only with CR4.PGE. SDM 4.10.2.3: a 4 MiB page may be cached as
   * 4 KiB pieces (marked large, so that INVLPG drops them all).
   */
  private fill(
    linear: number,
    pfn: number,
    allowed: number,
    dirty: boolean,
    global: boolean,
    large: boolean,
    leafAddr: number,
  ): void {
    const flags = (large === true ? TLB_LARGE : 0) | (global === true && (this._cr4 & PGE_BIT) !== 0 ? TLB_GLOBAL : 0);
    this.tlb.insert(linear >>> 12, pfn, allowed, dirty, flags, leafAddr);
  }

  /**
   * setDirty handles the first write through a translation cached with D=0.
   * SDM 4.8: D is set in the paging-structure entry that maps the page when the
   * write happens, so the processor walks again (as QEMU does) rather than
   * trusting the cached leaf: an entry edited since the fill is honoured (the
   * write may fault, or set D in another entry). Counted as a dirty set, not a
   * walk (the trace replay's bare model counts it so).
   */
  private setDirty(linear: number, kind: AccessKind): number {
    const phys = this.walkOnly(linear, kind);
    if (phys < 0) return -1;
    this._dirtySets++;
    this._hits++;
    this.fillFrom(linear, phys); // replaces the clean entry in place (Tlb.insert reuses its slot)
    return phys;
  }

  /**
   * walkOnly is the full walk() for an access, recording it in lastWalk: the
   * physical address, or -1 after a page fault (CR2, faultCode set).
   */
  private walkOnly(linear: number, kind: AccessKind): number {
    const w = this.lastWalk;
    const phys = walk(this.mem, this, linear, kind, this._cpl === 3, true, w);
    if (phys >= 0) return phys;
    // SDM 4.10.4.1: a page fault invalidates the TLB entries for the faulting page.
    this.tlb.dropPage(linear);
    this._cr2 = linear >>> 0;
    this._faultCode = w.errorCode;
    this._faults++;
    return -1;
  }

  /** walkAndFillSlow is the full walk() of a miss, then the fill. */
  private walkAndFillSlow(linear: number, kind: AccessKind): number {
    const phys = this.walkOnly(linear, kind);
    if (phys >= 0) this.fillFrom(linear, phys);
    return phys;
  }

  /** fillFrom caches the translation lastWalk found for `linear` (an entry already caching its page is replaced). */
  private fillFrom(linear: number, phys: number): void {
    const w = this.lastWalk;
    this.fill(linear, Math.floor(phys / 4096), w.allowed, w.dirty, w.global, w.large, w.leafAddr);
  }

  /**
   * translateExt is translate() under PAE paging or with SMEP/SMAP: the TLB's entries carry protect.ts's
   * PROT_* rights (fetch rights apart) and never hit in the hit word (TLBF_SLOW).
   */
  private translateExt(linear: number, kind: AccessKind): number {
    const tlb = this.tlb;
    const user = this._cpl === 3;
    const need = protNeed(kind, user);
    const slot = tlb.find(linear >>> 12);
    if (slot >= 0 && !this.smapForbids(slot, kind, user)) {
      if ((tlb.rights[slot] & need) !== 0) {
        this._hits++;
        return tlb.pfn[slot] * 4096 + (linear & 0xfff);
      }
      if ((tlb.allowed[slot] & need) !== 0) return this.setDirtyExt(linear, kind);
      // The cached rights forbid it: walk again before faulting, as QEMU does.
    }
    this._misses++;
    this._walks++;
    const phys = this.walkExt(linear, kind);
    if (phys >= 0) this.fillExt(linear, phys);
    return phys;
  }

  /**
   * smapForbids says whether SMAP forbids a cached translation now: SDM 4.6.1, a supervisor data access to a
   * user-mode address (cached with user rights) with CR4.SMAP=1 and EFLAGS.AC=0, checked at each access since
   * EFLAGS.AC changes without a TLB flush (STAC/CLAC). Such an access walks again, and faults there.
   */
  private smapForbids(slot: number, kind: AccessKind, user: boolean): boolean {
    if (!this.smap || this._ac || user || kind === ACCESS_FETCH) return false;
    return (this.tlb.allowed[slot] & PROT_USER_READ) !== 0;
  }

  /** setDirtyExt is setDirty for the slower path: walk again to set D (SDM 4.8), then refill. */
  private setDirtyExt(linear: number, kind: AccessKind): number {
    const phys = this.walkExt(linear, kind);
    if (phys < 0) return -1;
    this._dirtySets++;
    this._hits++;
    this.fillExt(linear, phys);
    return phys;
  }

  /** walkExt is the PAE walk (pae.ts) or the 32-bit walk with SMEP/SMAP (walkprot.ts), committing A/D. */
  private walkExt(linear: number, kind: AccessKind): number {
    const w = this.lastProtWalk;
    const user = this._cpl === 3;
    const phys = this.pae
      ? paeWalk(this.mem, this, linear, kind, user, true, w)
      : protWalk32(this.mem, this, linear, kind, user, true, w);
    if (phys >= 0) return phys;
    // SDM 4.10.4.1: a page fault invalidates the TLB entries for the faulting page.
    this.tlb.dropPage(linear);
    this._cr2 = linear >>> 0;
    this._faultCode = w.errorCode;
    this._faults++;
    return -1;
  }

  /**
   * fillExt caches what lastProtWalk found, as a 4 KiB piece (SDM 4.10.2.3: a 2 MiB page may be cached as
   * pieces; marked large, INVLPG drops them all). SDM 4.10.2.4: G counts only with CR4.PGE.
   */
  private fillExt(linear: number, phys: number): void {
    const w = this.lastProtWalk;
    const global = w.global === true && (this._cr4 & PGE_BIT) !== 0;
    const flags = TLBF_SLOW | (w.large === true ? TLB_LARGE : 0) | (global ? TLB_GLOBAL : 0);
    this.tlb.insert(linear >>> 12, Math.floor(phys / 4096), w.allowed, w.dirty, flags, w.leafAddr);
  }

  /**
   * probeExt walks like translateExt's walk would but changes nothing (no A/D, no TLB): for tools, under
   * PAE paging or with SMEP/SMAP (probe() is the 32-bit walk).
   */
  probeExt(linear: number, kind: AccessKind, user: boolean): PaeWalkState {
    const w = new PaeWalkState();
    if (!this.paging) {
      w.phys = linear >>> 0;
      return w;
    }
    if (this.pae) paeWalk(this.mem, this, linear >>> 0, kind, user, false, w);
    else protWalk32(this.mem, this, linear >>> 0, kind, user, false, w);
    return w;
  }

  /**
   * probe walks like the processor would for this access but changes nothing:
   * no A/D updates, no TLB lookup or fill. For tools (translate, inspect).
   */
  probe(linear: number, kind: AccessKind, user: boolean): WalkState {
    const w = new WalkState();
    if (!this.paging) {
      w.phys = linear >>> 0;
      return w;
    }
    walk(this.mem, this, linear >>> 0, kind, user, false, w);
    return w;
  }

  /** setCpl sets the current privilege level (0 kernel, 3 user). */
  setCpl(cpl: 0 | 3): void {
    this._cpl = cpl;
    this.needRead = needOf(0, cpl === 3);
    this.needWrite = needOf(ACCESS_WRITE, cpl === 3);
    this.updateFast();
  }

  /** updateFast recomputes what the walk's fast path derives from CPL and CR0.WP. */
  private updateFast(): void {
    const wp = this.wp;
    this.fastRead = fastEntryBits(this.needRead, wp);
    this.fastWrite = fastEntryBits(this.needWrite, wp);
    for (let i = 0; i < 4; i++) this.rightsByFlags[i] = rightsOf(i << 1, wp);
  }

  /**
   * writeCr0 is MOV to CR0. PG without PE is #GP (SDM 2.5); changing PG, PE or
   * WP flushes the whole TLB, global entries included (SDM 4.10.4.1 requires
   * it for PG; flushing more is always allowed, and cached rights embed WP).
   */
  writeCr0(value: number): void {
    const v = value >>> 0;
    if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0)
      throw new GeneralProtection('pg-without-pe', v, `MOV to CR0 ${hex(v)}: PG=1 requires PE=1`);
    const changed = (this._cr0 ^ v) >>> 0;
    // SDM 4.4.1: MOV to CR0 changing CD, NW or PG loads the PDPTEs if PAE paging follows (#GP: nothing changes).
    if ((v & CR0_PG) !== 0 && this.pae && (changed & (CR0_PG | CR0_CD | CR0_NW)) !== 0) this.reloadPdptes(this._cr3);
    this._cr0 = v;
    this.paging = (v & CR0_PG) !== 0;
    this.updateFast();
    if ((changed & (CR0_PG | CR0_PE | CR0_WP)) !== 0) this.tlb.flush(false);
  }

  /**
   * writeCr3 is MOV to CR3: flushes every TLB entry except global ones (SDM 4.10.4.1). Under PAE paging it
   * loads the PDPTEs from the new CR3 first (SDM 4.4.1; 'sdm' profile: #GP on reserved bits, CR3 unchanged).
   */
  writeCr3(value: number): void {
    if (this.paging && this.pae) this.reloadPdptes(value >>> 0);
    this._cr3 = value >>> 0;
    this.pdBase = value & FRAME_MASK;
    this.tlb.flush(this.pge);
  }

  /**
   * writeCr4 is MOV to CR4. Changing PGE flushes everything, global entries
   * included (SDM 4.10.4.1); a change of PSE may flush (SDM Vol. 2, MOV CR:
   * implementation-specific), and this model flushes then too, as QEMU does;
   * so does a change of PAE, SMEP or SMAP (flushing more is always allowed, and
   * cached rights embed them).
   */
  writeCr4(value: number): void {
    const v = value >>> 0;
    const changed = (this._cr4 ^ v) >>> 0;
    // SDM 4.4.1: MOV to CR4 changing PAE, PGE, PSE or SMEP loads the PDPTEs if PAE paging follows.
    const reload = this.paging && (v & CR4_PAE) !== 0 && (changed & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) !== 0;
    if (reload) this.reloadPdptesFor(this._cr3, v);
    this._cr4 = v;
    this.ext = (v & CR4_EXT) !== 0;
    if ((changed & CR4_FLUSH) !== 0) this.tlb.flush(false);
  }

  /**
   * writeEfer is WRMSR to IA32_EFER (MSR 0xC0000080). Only NXE (bit 11, SDM 2.2.1) is modelled: any other bit
   * is refused with #GP (long mode is not modelled). A change of NXE flushes the TLB (cached rights embed it).
   */
  writeEfer(value: number): void {
    const v = value >>> 0;
    if ((v & ~EFER_MODELLED) !== 0)
      throw new GeneralProtection('efer-unmodelled', v, `WRMSR IA32_EFER ${hex(v)}: only NXE (bit 11) is modelled`);
    const changed = (this._efer ^ v) >>> 0;
    this._efer = v;
    if (changed !== 0) this.tlb.flush(false);
  }

  /** setAc sets EFLAGS.AC (STAC/CLAC, POPF): SMAP's override for explicit supervisor accesses (SDM 4.6.1). */
  setAc(ac: boolean): void {
    this._ac = ac;
  }

  /** reloadPdptes loads the PDPTE registers from `cr3` under the current CR4 (see reloadPdptesFor). */
  private reloadPdptes(cr3: number): void {
    this.reloadPdptesFor(cr3, this._cr4);
  }

  /**
   * reloadPdptesFor loads the four PDPTE registers from `cr3` (SDM 4.4.1): 'sdm' profile only, and a present
   * PDPTE with reserved bits is #GP with no register changed; the 'qemu' profile re-reads them at each walk.
   */
  private reloadPdptesFor(cr3: number, cr4: number): void {
    if (this.profile !== 'sdm' || (cr4 & CR4_PAE) === 0) return;
    loadPdptes(this.mem, cr3, this.maxPhysAddr, this.pdptes);
  }

  /** invlpg is INVLPG: drops the translation of the page holding `linear` (SDM 4.10.4.1). */
  invlpg(linear: number): void {
    this.tlb.invalidatePage(linear >>> 0);
  }

  /** A snapshot of the counters. */
  counters(): MmuCounters {
    const t = this.tlb;
    return {
      hits: this._hits,
      misses: this._misses,
      walks: this._walks,
      dirtySets: this._dirtySets,
      faults: this._faults,
      fills: t.fills,
      evictions: t.evictions,
      flushes: t.flushes,
      invlpgs: t.invlpgs,
    };
  }

  /** resetCounters zeroes every counter (not the TLB contents). */
  resetCounters(): void {
    this._hits = this._misses = this._walks = this._dirtySets = this._faults = 0;
    this.tlb.resetCounters();
  }
}
