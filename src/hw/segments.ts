// Segmentation (SDM Vol. 3A chapters 3 and 5): the step before paging that
// turns a logical address (segment register, offset) into a linear one. The
// GDT and LDT live in memory at linear addresses (LGDT, LLDT); loading a
// segment register checks the descriptor and copies it into the register's
// hidden cache; every access is then checked against the cached type and
// limit. Descriptor-table reads and the accessed-bit write are implicit
// supervisor accesses (SDM 4.6), made through a DescriptorBus so that they
// go through paging like any other access.

import { PagelabError } from '../errors.js';
import { hex } from './addr.js';
import { ACCESS_FETCH, ACCESS_WRITE, type AccessKind } from './fault.js';
import {
  decodeDescriptor,
  effectiveLimit,
  isCode,
  isNullSelector,
  isReadable,
  isWritableData,
  selectorIndex,
  SEL_RPL,
  SEL_TI,
  SYSTEM_TYPE_LDT,
  TYPE_ACCESSED,
  TYPE_CODE,
  TYPE_EXPAND_DOWN_OR_CONFORMING,
  TYPE_WRITABLE_OR_READABLE,
  type SegmentDescriptor,
} from './segdesc.js';

/** Segment registers, numbered as the instruction encoding numbers them (SDM Vol. 2 Table 3-6... sreg field). */
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;
export type SegmentRegister = typeof ES | typeof CS | typeof SS | typeof DS | typeof FS | typeof GS;
export const SEGMENT_NAMES: readonly string[] = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];

/** The exceptions segmentation raises: #NP (11), #SS (12), #GP (13). */
export type SegmentFaultKind = 'np' | 'ss' | 'gp';
const VECTORS: Readonly<Record<SegmentFaultKind, number>> = { np: 11, ss: 12, gp: 13 };
const MNEMONICS: Readonly<Record<SegmentFaultKind, string>> = { np: '#NP', ss: '#SS', gp: '#GP' };

/** A segment-not-present, stack or general-protection fault, with its error code (SDM 6.13: a selector, or 0). */
export class SegmentFault extends PagelabError {
  readonly vector: number;
  constructor(
    readonly kind: SegmentFaultKind,
    readonly errorCode: number,
    readonly reason: string,
  ) {
    super(`${MNEMONICS[kind]}(${hex(errorCode, 4)}): ${reason}`);
    this.vector = VECTORS[kind];
  }
}

/** Descriptor-table memory: implicit supervisor reads and writes of 32 bits at a linear address (may page-fault). */
export interface DescriptorBus {
  readSystem32(linear: number): number;
  writeSystem32(linear: number, value: number): void;
}

/** Rights of a cached segment: whether reads, writes and fetches may use it at all. */
const R_READ = 1;
const R_WRITE = 2;
const R_FETCH = 4;
const RIGHT_OF: readonly number[] = [R_READ, R_WRITE, R_FETCH]; // by AccessKind

/** A logical address's translation: the linear address, or the fault a checked access raises. */
export type LogicalResult =
  { readonly kind: 'linear'; readonly linear: number } | { readonly kind: 'fault'; readonly fault: SegmentFault };

/**
 * Which checks an access through a segment register makes. 'sdm': the null
 * selector, type and limit checks of SDM 5.3 and 5.4.1. 'qemu': none, as
 * QEMU 7.2's TCG does in protected mode (linear = base + offset; a null
 * selector has base 0), measured by test/conformance/seg; for differential
 * testing. Segment-register loads are checked the same under both.
 */
export type SegmentationProfile = 'sdm' | 'qemu';

/** The segmentation unit: GDTR, LDTR, and six segment registers with their hidden descriptor caches. */
export class Segmentation {
  private gdtBase = 0;
  private gdtLimit = 0xffff;
  /** LDTR as a reset leaves it (SDM Table 9-1): selector 0, base 0, limit 0xFFFF, usable. */
  private ldtSelector = 0;
  private ldtBase = 0;
  private ldtLimit = 0xffff;
  private ldtValid = true;
  private readonly selectors = new Uint16Array(6);
  private readonly bases = new Float64Array(6);
  /** First and last valid offset of each register's segment (expand-down segments start above their limit). */
  private readonly low = new Float64Array(6);
  private readonly high = new Float64Array(6);
  private readonly rights = new Uint8Array(6);
  /** Whether an access may wrap around 2^32: a flat 4 GiB expand-up segment. */
  private readonly wraps = new Uint8Array(6);
  private readonly caches: (SegmentDescriptor | null)[] = [null, null, null, null, null, null];
  private _cpl = 0;
  private _lastFault: SegmentFault | null = null;

  private readonly unchecked: boolean;

  constructor(
    private readonly bus: DescriptorBus,
    readonly profile: SegmentationProfile = 'sdm',
  ) {
    this.unchecked = profile === 'qemu';
    this.flat(0x08, 0x10);
  }

  /** The current privilege level: the RPL of CS (SDM 5.5). */
  get cpl(): number {
    return this._cpl;
  }

  /** selector returns the selector segment register `reg` holds. */
  selector(reg: SegmentRegister): number {
    return this.selectors[reg];
  }

  /** cache returns the descriptor cached in `reg`, null for a null selector. */
  cache(reg: SegmentRegister): SegmentDescriptor | null {
    return this.caches[reg];
  }

  /** ldtr returns the selector LDTR holds and whether it names a usable LDT. */
  get ldtr(): { readonly selector: number; readonly valid: boolean } {
    return { selector: this.ldtSelector, valid: this.ldtValid };
  }

  /** gdtr returns the GDT's linear base and limit. */
  get gdtr(): { readonly base: number; readonly limit: number } {
    return { base: this.gdtBase, limit: this.gdtLimit };
  }

  /**
   * flat sets every register to a flat 4 GiB segment at CPL 0 — the state a
   * multiboot loader hands over (code at `codeSel`, data at `dataSel`) —
   * without reading any table (the multiboot spec leaves GDTR undefined).
   */
  flat(codeSel: number, dataSel: number): void {
    const code = decodeDescriptor(0x0000ffff, 0x00cf9b00);
    const data = decodeDescriptor(0x0000ffff, 0x00cf9300);
    this.setCache(CS, codeSel & ~SEL_RPL, code);
    for (const r of [ES, SS, DS, FS, GS] as const) this.setCache(r, dataSel & ~SEL_RPL, data);
    this._cpl = 0;
  }

  /** lgdt loads GDTR (SDM Vol. 2 LGDT): a 32-bit linear base and a 16-bit limit. Nothing is read. */
  lgdt(base: number, limit: number): void {
    this.gdtBase = base >>> 0;
    this.gdtLimit = limit & 0xffff;
  }

  /**
   * lldt loads LDTR from a GDT descriptor of type LDT (SDM Vol. 2 LLDT): a null
   * selector leaves LDTR unusable; a selector into the LDT, or a descriptor of
   * another type, is #GP(selector); a descriptor not present is #NP(selector).
   */
  lldt(selector: number): void {
    if (this._cpl !== 0) throw new SegmentFault('gp', 0, 'LLDT at CPL > 0');
    if (isNullSelector(selector)) {
      this.ldtSelector = selector & 0xffff;
      this.ldtValid = false;
      return;
    }
    if ((selector & SEL_TI) !== 0) throw selectorFault('gp', selector, 'an LDT selector must index the GDT');
    const { desc } = this.readDescriptor(selector);
    if (desc.codeOrData || desc.type !== SYSTEM_TYPE_LDT) throw selectorFault('gp', selector, 'not an LDT descriptor');
    if (!desc.present) throw selectorFault('np', selector, 'the LDT descriptor is not present');
    this.ldtSelector = selector & 0xffff;
    this.ldtBase = desc.base;
    this.ldtLimit = effectiveLimit(desc);
    this.ldtValid = true;
  }

  /**
   * load is MOV (or POP) to DS, ES, FS, GS or SS in protected mode, with the
   * checks of SDM Vol. 2 MOV and Vol. 3A 5.6 and 5.7: a null selector may be
   * loaded into DS-GS (using it faults later) but not SS; SS needs a writable
   * data segment with RPL = DPL = CPL; DS-GS need data or readable code whose
   * DPL, unless conforming code, is at least both CPL and RPL. A descriptor
   * not present gives #SS (for SS) or #NP; the loaded descriptor is marked accessed.
   */
  load(reg: SegmentRegister, selector: number): void {
    if (reg === CS) throw new PagelabError('CS cannot be loaded by MOV (#UD): use farJump');
    const sel = selector & 0xffff;
    if (isNullSelector(sel)) {
      if (reg === SS) throw new SegmentFault('gp', 0, 'a null selector loaded into SS');
      this.setCache(reg, sel, null);
      return;
    }
    const { desc, addr, hi } = this.readDescriptor(sel);
    if (reg === SS) this.checkStack(sel, desc);
    else this.checkData(sel, desc);
    this.markAccessed(addr, hi, desc);
    this.setCache(reg, sel, desc);
  }

  /**
   * farJump is JMP ptr16:32 to a code segment (SDM Vol. 2 JMP, protected mode):
   * null selector #GP(0); a conforming segment needs DPL <= CPL, a
   * nonconforming one RPL <= CPL and DPL = CPL, else #GP(selector); not present
   * #NP(selector); an offset past the limit #GP(0). CS takes the selector with
   * RPL = CPL. Gates and task segments are not modelled.
   */
  farJump(selector: number, offset: number): void {
    const sel = selector & 0xffff;
    if (isNullSelector(sel)) throw new SegmentFault('gp', 0, 'a far jump to a null selector');
    const { desc, addr, hi } = this.readDescriptor(sel);
    if (!desc.codeOrData) throw new PagelabError('far jumps through gates or to a TSS are not modelled');
    if (!isCode(desc)) throw selectorFault('gp', sel, 'a far jump to a data segment');
    const conforming = (desc.type & TYPE_EXPAND_DOWN_OR_CONFORMING) !== 0;
    if (conforming ? desc.dpl > this._cpl : (sel & SEL_RPL) > this._cpl || desc.dpl !== this._cpl)
      throw selectorFault('gp', sel, `code segment DPL ${desc.dpl} at CPL ${this._cpl}`);
    if (!desc.present) throw selectorFault('np', sel, 'the code segment is not present');
    if (offset >>> 0 > effectiveLimit(desc)) throw new SegmentFault('gp', 0, 'the jump target is past the limit');
    this.markAccessed(addr, hi, desc);
    this.setCache(CS, (sel & ~SEL_RPL) | this._cpl, desc);
  }

  /**
   * iretToOuter is the segment part of IRET to an outer privilege level (SDM
   * Vol. 2 IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL): the return CS's RPL becomes
   * CPL and must exceed the current one; its segment must be code, DPL = RPL
   * if nonconforming (<= RPL if conforming), present; SS must be a present
   * writable data segment with RPL = DPL = the new CPL. DS, ES, FS and GS are
   * then nulled if the new CPL may not use them (SDM 5.8.6).
   */
  iretToOuter(csSelector: number, ssSelector: number): void {
    const cs = csSelector & 0xffff;
    const rpl = cs & SEL_RPL;
    if (isNullSelector(cs)) throw new SegmentFault('gp', 0, 'IRET to a null code selector');
    const code = this.readDescriptor(cs);
    if (!isCode(code.desc)) throw selectorFault('gp', cs, 'IRET to a segment that is not code');
    const conforming = (code.desc.type & TYPE_EXPAND_DOWN_OR_CONFORMING) !== 0;
    if (rpl <= this._cpl || (conforming ? code.desc.dpl > rpl : code.desc.dpl !== rpl))
      throw selectorFault('gp', cs, `IRET to RPL ${rpl}, DPL ${code.desc.dpl} from CPL ${this._cpl}`);
    if (!code.desc.present) throw selectorFault('np', cs, 'the code segment is not present');
    const ss = ssSelector & 0xffff;
    if (isNullSelector(ss)) throw new SegmentFault('gp', 0, 'IRET with a null stack selector');
    const stack = this.readDescriptor(ss);
    if ((ss & SEL_RPL) !== rpl || !isWritableData(stack.desc) || stack.desc.dpl !== rpl)
      throw selectorFault('gp', ss, `the stack segment does not suit CPL ${rpl}`);
    if (!stack.desc.present) throw selectorFault('ss', ss, 'the stack segment is not present');
    this.markAccessed(code.addr, code.hi, code.desc);
    this.markAccessed(stack.addr, stack.hi, stack.desc);
    this.setCache(CS, cs, code.desc);
    this.setCache(SS, ss, stack.desc);
    this._cpl = rpl;
    for (const r of [ES, DS, FS, GS] as const) if (this.unusableAt(r, rpl)) this.setCache(r, 0, null);
  }

  /**
   * toLinear checks an access of `size` bytes at `offset` through `reg` and
   * returns its linear address, base + offset modulo 2^32, or -1 (the fault
   * is then `lastFault`). The checks of SDM 5.3 (limit) and 5.4.1 (type):
   * a null selector in DS-GS, a write to code or read-only data, a read of
   * execute-only code give #GP(0); an offset outside the segment gives
   * #SS(0) through SS, else #GP(0). A flat 4 GiB expand-up segment lets an
   * access wrap around 2^32, as Bochs does; the SDM leaves it open. The 'qemu' profile checks nothing.
   */
  toLinear(reg: SegmentRegister, offset: number, size: number, kind: AccessKind): number {
    const off = offset >>> 0;
    if (this.unchecked) return (this.bases[reg] + off) >>> 0;
    const last = off + size - 1;
    if ((this.rights[reg] & RIGHT_OF[kind]) === 0) return this.fail('gp', 0, this.typeReason(reg, kind));
    if (off < this.low[reg] || (last > this.high[reg] && !this.wraps[reg]))
      return this.fail(reg === SS ? 'ss' : 'gp', 0, `offset ${hex(off)} is outside ${SEGMENT_NAMES[reg]}`);
    return (this.bases[reg] + off) >>> 0;
  }

  /** translateLogical is toLinear with its fault as a value. */
  translateLogical(reg: SegmentRegister, offset: number, size: number, kind: AccessKind): LogicalResult {
    const linear = this.toLinear(reg, offset, size, kind);
    if (linear >= 0) return { kind: 'linear', linear };
    return { kind: 'fault', fault: this._lastFault as SegmentFault };
  }

  /** The fault of the last toLinear that returned -1. */
  get lastFault(): SegmentFault | null {
    return this._lastFault;
  }

  /** fail records a fault for toLinear and returns -1. */
  private fail(kind: SegmentFaultKind, code: number, reason: string): number {
    this._lastFault = new SegmentFault(kind, code, reason);
    return -1;
  }

  /** typeReason says why `reg` cannot be used for `kind` (for the fault's message). */
  private typeReason(reg: SegmentRegister, kind: AccessKind): string {
    if (this.caches[reg] === null) return `${SEGMENT_NAMES[reg]} holds a null selector`;
    const what = kind === ACCESS_WRITE ? 'written' : kind === ACCESS_FETCH ? 'executed' : 'read';
    return `the segment in ${SEGMENT_NAMES[reg]} cannot be ${what}`;
  }

  /** readDescriptor fetches the descriptor a selector names, #GP(selector) if it lies past its table's limit. */
  private readDescriptor(sel: number): { desc: SegmentDescriptor; addr: number; hi: number } {
    const ldt = (sel & SEL_TI) !== 0;
    if (ldt && !this.ldtValid) throw selectorFault('gp', sel, 'an LDT selector with no LDT loaded');
    const offset = selectorIndex(sel) * 8;
    if (offset + 7 > (ldt ? this.ldtLimit : this.gdtLimit))
      throw selectorFault('gp', sel, `index ${selectorIndex(sel)} is past the ${ldt ? 'LDT' : 'GDT'} limit`);
    const addr = ((ldt ? this.ldtBase : this.gdtBase) + offset) >>> 0;
    const lo = this.bus.readSystem32(addr);
    const hi = this.bus.readSystem32((addr + 4) >>> 0);
    return { desc: decodeDescriptor(lo, hi), addr, hi };
  }

  /** checkStack applies MOV SS's descriptor checks (SDM Vol. 2 MOV; 5.7). */
  private checkStack(sel: number, d: SegmentDescriptor): void {
    if ((sel & SEL_RPL) !== this._cpl || !isWritableData(d) || d.dpl !== this._cpl)
      throw selectorFault('gp', sel, `SS needs a writable data segment with RPL = DPL = CPL ${this._cpl}`);
    if (!d.present) throw selectorFault('ss', sel, 'the stack segment is not present');
  }

  /** checkData applies the checks of loading DS, ES, FS or GS (SDM Vol. 2 MOV; 5.6: DPL >= max(CPL, RPL)). */
  private checkData(sel: number, d: SegmentDescriptor): void {
    if (!isReadable(d)) throw selectorFault('gp', sel, 'not a data or readable code segment');
    const conformingCode = isCode(d) && (d.type & TYPE_EXPAND_DOWN_OR_CONFORMING) !== 0;
    if (!conformingCode && ((sel & SEL_RPL) > d.dpl || this._cpl > d.dpl))
      throw selectorFault('gp', sel, `DPL ${d.dpl} is below CPL ${this._cpl} or RPL ${sel & SEL_RPL}`);
    if (!d.present) throw selectorFault('np', sel, 'the segment is not present');
  }

  /** markAccessed sets the descriptor's accessed bit in the table if it is clear (SDM 3.4.5.1). */
  private markAccessed(addr: number, hi: number, d: SegmentDescriptor): void {
    if ((d.type & TYPE_ACCESSED) === 0) this.bus.writeSystem32((addr + 4) >>> 0, (hi | (TYPE_ACCESSED << 8)) >>> 0);
  }

  /** unusableAt tells whether a data register's segment is out of reach at `cpl` (SDM 5.8.6: DPL < CPL). */
  private unusableAt(reg: SegmentRegister, cpl: number): boolean {
    const d = this.caches[reg];
    if (d === null) return false;
    const conformingCode = isCode(d) && (d.type & TYPE_EXPAND_DOWN_OR_CONFORMING) !== 0;
    return !conformingCode && d.dpl < cpl;
  }

  /** setCache loads a register's selector and hidden cache (null: unusable), precomputing its bounds and rights. */
  private setCache(reg: SegmentRegister, sel: number, d: SegmentDescriptor | null): void {
    this.selectors[reg] = sel;
    this.caches[reg] = d === null ? null : { ...d, type: d.type | TYPE_ACCESSED };
    if (reg === CS && d !== null) this._cpl = sel & SEL_RPL;
    if (d === null) {
      this.rights[reg] = 0;
      this.bases[reg] = 0;
      return;
    }
    const limit = effectiveLimit(d);
    const expandDown = !isCode(d) && (d.type & TYPE_EXPAND_DOWN_OR_CONFORMING) !== 0;
    this.bases[reg] = d.base;
    this.low[reg] = expandDown ? limit + 1 : 0;
    this.high[reg] = expandDown ? (d.big ? 0xffffffff : 0xffff) : limit;
    this.rights[reg] = rightsOf(d);
    this.wraps[reg] = !expandDown && limit === 0xffffffff ? 1 : 0;
  }
}

/** rightsOf gives the accesses a code or data segment allows (SDM 5.4.1, Table 3-1). */
function rightsOf(d: SegmentDescriptor): number {
  const rw = (d.type & TYPE_WRITABLE_OR_READABLE) !== 0;
  if ((d.type & TYPE_CODE) !== 0) return R_FETCH | (rw ? R_READ : 0);
  return R_READ | (rw ? R_WRITE : 0);
}

/** selectorFault builds a fault whose error code is the selector with EXT and IDT clear (SDM 6.13). */
function selectorFault(kind: SegmentFaultKind, sel: number, reason: string): SegmentFault {
  return new SegmentFault(kind, sel & 0xfffc, `selector ${hex(sel, 4)}: ${reason}`);
}
