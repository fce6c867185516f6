// Segment selectors and segment descriptors (SDM Vol. 3A 3.4.2, 3.4.5): the
// 16-bit selector a segment register holds, and the 8-byte descriptor in the
// GDT or LDT that it names, decoded into the fields the checks use.

/** A selector's requested privilege level, bits 1:0 (SDM 3.4.2). */
export const SEL_RPL = 0x3;
/** A selector's table indicator, bit 2: 0 the GDT, 1 the LDT (SDM 3.4.2). */
export const SEL_TI = 0x4;

/** Descriptor type bits (the low 4 bits of byte 5, SDM 3.4.5.1, Table 3-1). */
export const TYPE_ACCESSED = 0x1;
/** Data: writable; code: readable. */
export const TYPE_WRITABLE_OR_READABLE = 0x2;
/** Data: expand-down; code: conforming. */
export const TYPE_EXPAND_DOWN_OR_CONFORMING = 0x4;
/** Set for code, clear for data. */
export const TYPE_CODE = 0x8;

/** The system-descriptor type of an LDT (SDM 3.5, Table 3-2). */
export const SYSTEM_TYPE_LDT = 0x2;

/** A decoded segment descriptor. */
export interface SegmentDescriptor {
  /** The 32-bit base address. */
  readonly base: number;
  /** The 20-bit limit field as stored. */
  readonly limit: number;
  /** The 4-bit type field. */
  readonly type: number;
  /** S: 1 for a code or data segment, 0 for a system descriptor. */
  readonly codeOrData: boolean;
  readonly dpl: number;
  readonly present: boolean;
  /** D/B: a 32-bit segment (for an expand-down data segment, its upper bound is 0xFFFFFFFF). */
  readonly big: boolean;
  /** G: the limit counts 4 KiB units. */
  readonly granular: boolean;
}

/** selectorIndex gives the descriptor number a selector names (bits 15:3). */
export function selectorIndex(selector: number): number {
  return (selector & 0xffff) >>> 3;
}

/** isNullSelector tells whether a selector is a null selector: index 0 in the GDT, any RPL (SDM 3.4.2). */
export function isNullSelector(selector: number): boolean {
  return (selector & 0xfffc) === 0;
}

/** decodeDescriptor splits a descriptor's two doublewords (low at the lower address) into its fields (SDM 3.4.5). */
export function decodeDescriptor(lo: number, hi: number): SegmentDescriptor {
  return {
    base: ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0,
    limit: (lo & 0xffff) | (hi & 0xf0000),
    type: (hi >>> 8) & 0xf,
    codeOrData: (hi & 0x1000) !== 0,
    dpl: (hi >>> 13) & 3,
    present: (hi & 0x8000) !== 0,
    big: (hi & 0x400000) !== 0,
    granular: (hi & 0x800000) !== 0,
  };
}

/** What encodeDescriptor needs; the flags default to a present, byte-granular, 16-bit segment. */
export interface DescriptorFields {
  readonly base: number;
  readonly limit: number;
  readonly type: number;
  readonly codeOrData?: boolean;
  readonly dpl?: number;
  readonly present?: boolean;
  readonly big?: boolean;
  readonly granular?: boolean;
}

/** encodeDescriptor builds a descriptor's two doublewords [low, high], the inverse of decodeDescriptor. */
export function encodeDescriptor(d: DescriptorFields): [number, number] {
  const lo = ((d.base & 0xffff) << 16) | (d.limit & 0xffff);
  const hi =
    ((d.base >>> 16) & 0xff) |
    ((d.type & 0xf) << 8) |
    ((d.codeOrData ?? true) ? 0x1000 : 0) |
    (((d.dpl ?? 0) & 3) << 13) |
    ((d.present ?? true) ? 0x8000 : 0) |
    (d.limit & 0xf0000) |
    (d.big === true ? 0x400000 : 0) |
    (d.granular === true ? 0x800000 : 0) |
    (d.base & 0xff000000);
  return [lo >>> 0, hi >>> 0];
}

/** effectiveLimit is the last valid offset the limit field names: in 4 KiB units with G set (SDM 3.4.5). */
export function effectiveLimit(d: SegmentDescriptor): number {
  return d.granular ? ((d.limit << 12) | 0xfff) >>> 0 : d.limit;
}

/** isCode tells whether a code-or-data descriptor describes a code segment. */
export function isCode(d: SegmentDescriptor): boolean {
  return d.codeOrData && (d.type & TYPE_CODE) !== 0;
}

/** isWritableData tells whether a descriptor is a writable data segment (what SS needs). */
export function isWritableData(d: SegmentDescriptor): boolean {
  return d.codeOrData && (d.type & TYPE_CODE) === 0 && (d.type & TYPE_WRITABLE_OR_READABLE) !== 0;
}

/** isReadable tells whether a code-or-data descriptor can be read: any data segment, or readable code. */
export function isReadable(d: SegmentDescriptor): boolean {
  return d.codeOrData && ((d.type & TYPE_CODE) === 0 || (d.type & TYPE_WRITABLE_OR_READABLE) !== 0);
}
