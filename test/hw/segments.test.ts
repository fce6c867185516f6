// Segmentation: descriptors, segment-register loads and their faults, and the
// logical-to-linear step with its limit and type checks, each with its SDM section.
import { describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, PageFault, type AccessKind } from '../../src/hw/fault.js';
import { Machine } from '../../src/hw/machine.js';
import { decodeDescriptor, encodeDescriptor, type DescriptorFields } from '../../src/hw/segdesc.js';
import { CS, DS, ES, FS, GS, SS, Segmentation, SegmentFault, type SegmentRegister } from '../../src/hw/segments.js';
import { map4k, paged, pteAddr } from './util.js';

const GDT = 0x8000;
/** Types (SDM Table 3-1): data read/write, data read-only, data expand-down r/w, code execute/read, execute-only,
 *  conforming execute/read. */
const DATA_RW = 0x2;
const DATA_RO = 0x0;
const DATA_DOWN = 0x6;
const CODE_XR = 0xa;
const CODE_X = 0x8;
const CODE_CONF = 0xe;

const FLAT = { base: 0, limit: 0xfffff, granular: true, big: true };

/** The test GDT: entry i at GDT + 8 i. */
const ENTRIES: (DescriptorFields | null)[] = [
  null, // 0x00 null
  { ...FLAT, type: CODE_XR }, // 0x08 kernel code
  { ...FLAT, type: DATA_RW }, // 0x10 kernel data
  { ...FLAT, type: CODE_XR, dpl: 3 }, // 0x18 user code
  { ...FLAT, type: DATA_RW, dpl: 3 }, // 0x20 user data
  { base: 0x100000, limit: 0xfff, type: DATA_RO }, // 0x28 read-only, 4 KiB at 1 MiB
  { base: 0x200000, limit: 0xfff, type: DATA_DOWN, big: true }, // 0x30 expand-down: offsets 0x1000..0xFFFFFFFF
  { base: 0, limit: 0xffff, type: CODE_X }, // 0x38 execute-only code
  { ...FLAT, type: DATA_RW, present: false }, // 0x40 not present
  { ...FLAT, type: CODE_CONF, dpl: 0 }, // 0x48 conforming code, DPL 0
  { base: 0x300000, limit: 0xf, type: DATA_RW, granular: true }, // 0x50 64 KiB in 4 KiB units
  { base: 0x400000, limit: 0x0fff, type: DATA_DOWN, big: false }, // 0x58 expand-down, 16-bit: 0x1000..0xFFFF
  { base: 0, limit: 0x17, type: 0x2, codeOrData: false }, // 0x60 an LDT at 0 with 3 entries
];

/** setup builds a machine with the test GDT in RAM (paging off) and a segmentation unit that reads it. */
function setup(): { m: Machine; seg: Segmentation } {
  const m = new Machine({ ram: 16 << 20 });
  ENTRIES.forEach((d, i) => {
    const [lo, hi] = d === null ? [0, 0] : encodeDescriptor(d);
    m.mem.write32(GDT + i * 8, lo);
    m.mem.write32(GDT + i * 8 + 4, hi);
  });
  const seg = new Segmentation({
    readSystem32: (l) => m.read32(l),
    writeSystem32: (l, v) => m.write32(l, v),
  });
  seg.lgdt(GDT, ENTRIES.length * 8 - 1);
  return { m, seg };
}

/** faultOf runs fn and returns the SegmentFault's mnemonic and error code, or 'ok'. */
function faultOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!(e instanceof SegmentFault)) throw e;
    return `${e.kind}:${e.errorCode.toString(16)}`;
  }
}

/** access returns toLinear's linear address in hex, or the fault it records. */
function access(
  seg: Segmentation,
  reg: SegmentRegister,
  off: number,
  size: number,
  kind: AccessKind = ACCESS_READ,
): string {
  const l = seg.toLinear(reg, off, size, kind);
  if (l >= 0) return l.toString(16);
  const f = seg.lastFault as SegmentFault;
  return `${f.kind}:${f.errorCode.toString(16)}`;
}

/** toUser moves the unit to CPL 3 with user code and data, through IRET. */
function toUser(seg: Segmentation): void {
  seg.iretToOuter(0x1b, 0x23);
  seg.load(DS, 0x23);
}

describe('segment descriptors (SDM 3.4.5)', () => {
  it('decode the split base and limit fields, type, S, DPL, P, D/B and G', () => {
    const [lo, hi] = encodeDescriptor({
      base: 0x12345678,
      limit: 0xabcde,
      type: 0xa,
      dpl: 3,
      big: true,
      granular: true,
    });
    expect([lo, hi]).toEqual([0x5678bcde, 0x12cafa34]);
    expect(decodeDescriptor(lo, hi)).toEqual({
      base: 0x12345678,
      limit: 0xabcde,
      type: 0xa,
      codeOrData: true,
      dpl: 3,
      present: true,
      big: true,
      granular: true,
    });
  });

  it('the flat code and data descriptors every seed kernel loads are 0x00CF9A000000FFFF and 0x00CF92000000FFFF', () => {
    expect(encodeDescriptor({ ...FLAT, type: CODE_XR })).toEqual([0x0000ffff, 0x00cf9a00]);
    expect(encodeDescriptor({ ...FLAT, type: DATA_RW })).toEqual([0x0000ffff, 0x00cf9200]);
  });
});

describe('loading DS, ES, FS, GS (SDM Vol. 2 MOV; 5.6)', () => {
  it('a null selector (index 0, any RPL) loads without a fault; using it is #GP(0)', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.load(DS, 0x0003))).toBe('ok');
    expect(seg.cache(DS)).toBeNull();
    expect(access(seg, DS, 0, 4)).toBe('gp:0');
  });

  it('a selector past the GDT limit is #GP(selector), the error code keeping TI and dropping RPL', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.load(DS, ENTRIES.length * 8 + 3))).toBe(`gp:${(ENTRIES.length * 8).toString(16)}`);
    seg.lldt(0);
    expect(faultOf(() => seg.load(ES, 0x0107))).toBe('gp:104'); // TI = 1 with no LDT loaded
  });

  it('after reset LDTR names a 64 KiB LDT at linear 0 (SDM Table 9-1), so TI=1 selectors read descriptors there', () => {
    const { m, seg } = setup();
    expect(seg.ldtr).toEqual({ selector: 0, valid: true });
    const [lo, hi] = encodeDescriptor({ base: 0x123000, limit: 0xff, type: DATA_RW });
    m.mem.write32(0x108, lo);
    m.mem.write32(0x10c, hi);
    expect(faultOf(() => seg.load(FS, 0x010c))).toBe('ok'); // index 0x21 in the LDT at 0
    expect(access(seg, FS, 0x10, 1)).toBe('123010');
  });

  it('needs data or readable code: execute-only code and system descriptors are #GP(selector)', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.load(DS, 0x38))).toBe('gp:38');
    expect(faultOf(() => seg.load(DS, 0x60))).toBe('gp:60');
    expect(faultOf(() => seg.load(DS, 0x08))).toBe('ok'); // readable code may be loaded
    expect(access(seg, DS, 0x100, 4, ACCESS_WRITE)).toBe('gp:0'); // ...but not written
  });

  it('DPL must be at least both CPL and RPL, except for conforming code (5.6)', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.load(FS, 0x13))).toBe('gp:10'); // RPL 3 > DPL 0
    toUser(seg);
    expect(faultOf(() => seg.load(GS, 0x10))).toBe('gp:10'); // CPL 3 > DPL 0
    expect(faultOf(() => seg.load(GS, 0x4b))).toBe('ok'); // conforming code: no privilege check
    expect(faultOf(() => seg.load(GS, 0x23))).toBe('ok');
  });

  it('a segment not present is #NP(selector), checked after type and privilege', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.load(DS, 0x40))).toBe('np:40');
    expect(faultOf(() => seg.load(DS, 0x43))).toBe('gp:40'); // RPL 3 > DPL 0 comes first
  });

  it('a load sets the accessed bit of the descriptor in the GDT once (3.4.5.1)', () => {
    const { m, seg } = setup();
    expect(m.mem.read32(GDT + 0x10 + 4) & 0x100).toBe(0);
    seg.load(DS, 0x10);
    expect(m.mem.read32(GDT + 0x10 + 4)).toBe(0x00cf9300);
  });

  it('a rejected load changes neither the register nor the table', () => {
    const { m, seg } = setup();
    seg.load(DS, 0x10);
    const before = m.mem.read32(GDT + 0x40 + 4);
    expect(faultOf(() => seg.load(DS, 0x40))).toBe('np:40');
    expect(seg.selector(DS)).toBe(0x10);
    expect(m.mem.read32(GDT + 0x40 + 4)).toBe(before);
  });
});

describe('loading SS (SDM Vol. 2 MOV; 5.7)', () => {
  it('a null selector is #GP(0)', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.load(SS, 0))).toBe('gp:0');
  });

  it('needs a writable data segment with RPL = DPL = CPL, else #GP(selector)', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.load(SS, 0x28))).toBe('gp:28'); // read-only data
    expect(faultOf(() => seg.load(SS, 0x08))).toBe('gp:8'); // code
    expect(faultOf(() => seg.load(SS, 0x20))).toBe('gp:20'); // DPL 3 at CPL 0
    expect(faultOf(() => seg.load(SS, 0x11))).toBe('gp:10'); // RPL 1 at CPL 0
    expect(faultOf(() => seg.load(SS, 0x10))).toBe('ok');
  });

  it('a stack segment not present is #SS(selector), not #NP', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.load(SS, 0x40))).toBe('ss:40');
  });

  it('CS cannot be loaded by MOV', () => {
    const { seg } = setup();
    expect(() => seg.load(CS, 0x08)).toThrow(/#UD/);
  });
});

describe('far jumps load CS (SDM Vol. 2 JMP, protected mode)', () => {
  it('a nonconforming segment needs DPL = CPL and RPL <= CPL; CS takes RPL = CPL', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.farJump(0x18, 0))).toBe('gp:18'); // DPL 3 at CPL 0
    expect(faultOf(() => seg.farJump(0x0b, 0))).toBe('gp:8'); // RPL 3 > CPL 0
    expect(faultOf(() => seg.farJump(0x08, 0x1000))).toBe('ok');
    expect(seg.selector(CS)).toBe(0x08);
  });

  it('a conforming segment needs DPL <= CPL and keeps CPL', () => {
    const { seg } = setup();
    toUser(seg);
    expect(faultOf(() => seg.farJump(0x48, 0))).toBe('ok');
    expect(seg.cpl).toBe(3);
    expect(seg.selector(CS)).toBe(0x4b);
  });

  it('a null selector or an offset past the limit is #GP(0); data is #GP(selector)', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.farJump(0, 0))).toBe('gp:0');
    expect(faultOf(() => seg.farJump(0x38, 0x10000))).toBe('gp:0'); // execute-only code, limit 0xFFFF
    expect(faultOf(() => seg.farJump(0x10, 0))).toBe('gp:10');
  });
});

describe('IRET to an outer level (SDM Vol. 2 IRET; 5.8.6)', () => {
  it('CPL becomes the return CS RPL; SS must match it', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.iretToOuter(0x1b, 0x10))).toBe('gp:10'); // kernel SS for CPL 3
    expect(faultOf(() => seg.iretToOuter(0x1b, 0x23))).toBe('ok');
    expect(seg.cpl).toBe(3);
  });

  it('data registers the new CPL may not use are nulled', () => {
    const { seg } = setup();
    seg.load(DS, 0x10);
    seg.load(ES, 0x20);
    seg.iretToOuter(0x1b, 0x23);
    expect(seg.cache(DS)).toBeNull();
    expect(seg.selector(ES)).toBe(0x20);
    expect(access(seg, DS, 0, 1)).toBe('gp:0');
  });

  it('IRET to the same or an inner level is not an outer return', () => {
    const { seg } = setup();
    expect(faultOf(() => seg.iretToOuter(0x08, 0x10))).toBe('gp:8');
  });
});

describe('logical to linear: limits (SDM 5.3) and types (5.4.1)', () => {
  it('linear = base + offset for an access inside the limit', () => {
    const { seg } = setup();
    seg.load(DS, 0x28);
    expect(access(seg, DS, 0xffc, 4)).toBe('100ffc');
    expect(access(seg, DS, 0xffd, 4)).toBe('gp:0'); // its last byte is past the limit
    expect(access(seg, DS, 0x1000, 1)).toBe('gp:0');
  });

  it('G scales the limit to 4 KiB units with the low 12 bits set', () => {
    const { seg } = setup();
    seg.load(ES, 0x50);
    expect(access(seg, ES, 0xffff, 1)).toBe('30ffff');
    expect(access(seg, ES, 0x10000, 1)).toBe('gp:0');
  });

  it('an expand-down segment allows offsets above its limit up to 0xFFFFFFFF (B=1) or 0xFFFF (B=0)', () => {
    const { seg } = setup();
    seg.load(DS, 0x30);
    expect(access(seg, DS, 0xfff, 1)).toBe('gp:0');
    expect(access(seg, DS, 0x1000, 4)).toBe('201000');
    expect(access(seg, DS, 0xfffffffc, 4)).toBe('1ffffc'); // base + offset wraps at 2^32
    expect(access(seg, DS, 0xfffffffd, 4)).toBe('gp:0');
    seg.load(FS, 0x58);
    expect(access(seg, FS, 0xfffc, 4)).toBe('40fffc');
    expect(access(seg, FS, 0xfffd, 4)).toBe('gp:0');
  });

  it('through SS a limit violation is #SS(0)', () => {
    const { seg } = setup();
    seg.load(SS, 0x30);
    expect(access(seg, SS, 0x10, 4, ACCESS_WRITE)).toBe('ss:0');
  });

  it('writes to read-only data or code and reads of execute-only code are #GP(0)', () => {
    const { seg } = setup();
    seg.load(DS, 0x28);
    expect(access(seg, DS, 0, 4, ACCESS_WRITE)).toBe('gp:0');
    seg.farJump(0x38, 0);
    expect(access(seg, CS, 0x10, 4, ACCESS_READ)).toBe('gp:0');
    expect(access(seg, CS, 0x10, 4, ACCESS_FETCH)).toBe('10');
  });

  it('a flat 4 GiB segment lets an access wrap around 2^32', () => {
    const { seg } = setup();
    expect(access(seg, DS, 0xfffffffe, 4)).toBe('fffffffe');
  });

  it('translateLogical returns the same as a value', () => {
    const { seg } = setup();
    seg.load(DS, 0x28);
    expect(seg.translateLogical(DS, 4, 4, ACCESS_READ)).toEqual({ kind: 'linear', linear: 0x100004 });
    const r = seg.translateLogical(DS, 4, 4, ACCESS_WRITE);
    expect(r.kind === 'fault' && [r.fault.vector, r.fault.errorCode]).toEqual([13, 0]);
  });
});

describe('the LDT (SDM 3.5.1; Vol. 2 LLDT)', () => {
  it('LLDT needs a GDT selector of an LDT descriptor; then TI=1 selectors index it', () => {
    const { m, seg } = setup();
    // The LDT at linear 0 holds: null, and at index 2 a copy of the read-only segment.
    const [lo, hi] = encodeDescriptor(ENTRIES[5] as DescriptorFields);
    m.mem.write32(0x10, lo);
    m.mem.write32(0x14, hi);
    expect(faultOf(() => seg.lldt(0x10))).toBe('gp:10');
    expect(faultOf(() => seg.lldt(0x64))).toBe('gp:64');
    expect(faultOf(() => seg.lldt(0x60))).toBe('ok');
    expect(faultOf(() => seg.load(DS, 0x14))).toBe('ok');
    expect(access(seg, DS, 8, 4)).toBe('100008');
    expect(faultOf(() => seg.load(DS, 0x1c))).toBe('gp:1c'); // index 3 is past the LDT's 24 bytes
  });
});

describe('descriptor tables are read through paging', () => {
  it('a GDT page that is not present page-faults the load with the GDT address in CR2', () => {
    const m = paged();
    map4k(m, 0xc0000000, 0x8000, 0x3); // the GDT page, supervisor read/write
    ENTRIES.forEach((d, i) => {
      const [lo, hi] = d === null ? [0, 0] : encodeDescriptor(d);
      m.mem.write32(0x8000 + i * 8, lo);
      m.mem.write32(0x8000 + i * 8 + 4, hi);
    });
    const seg = new Segmentation({ readSystem32: (l) => m.read32(l), writeSystem32: (l, v) => m.write32(l, v) });
    seg.lgdt(0xc0000000, 0xffff);
    seg.load(DS, 0x10);
    expect(m.mem.read32(0x8014)).toBe(0x00cf9300); // the accessed bit written through the mapping
    m.mem.write32(pteAddr(0xc0000000), 0);
    m.mmu.invlpg(0xc0000000);
    let fault: unknown = null;
    try {
      seg.load(DS, 0x20);
    } catch (e) {
      fault = e;
    }
    expect(fault).toBeInstanceOf(PageFault);
    expect((fault as PageFault).linear).toBe(0xc0000020);
    expect(seg.selector(DS)).toBe(0x10);
  });
});
