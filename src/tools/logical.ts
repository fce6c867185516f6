// The segment step of `pagelab translate SEL:OFFSET`: a logical address
// (selector and offset) through the machine's GDT to a linear address, shown
// as the CPU would do it — the selector loaded into DS (CS for a fetch, by a
// far jump), its descriptor read from the table in RAM, the limit and type
// checked — without side effects: the loads run on a scratch segmentation
// unit whose descriptor reads go around the TLB and whose writes (the
// accessed bit) are dropped.

import { hex } from '../hw/addr.js';
import { ACCESS_FETCH, ACCESS_READ, type AccessKind } from '../hw/fault.js';
import type { Machine } from '../hw/machine.js';
import { effectiveLimit, isCode, selectorIndex, type SegmentDescriptor } from '../hw/segdesc.js';
import { CS, DS, SEGMENT_NAMES, SegmentFault, Segmentation, type SegmentRegister } from '../hw/segments.js';
import { PagelabError } from '../errors.js';

/** A logical address as typed: a 16-bit selector and a 32-bit offset. */
export interface Logical {
  readonly selector: number;
  readonly offset: number;
}

/** The segment step's outcome: the register used, the descriptor, and the linear address or the fault. */
export interface SegmentStep {
  readonly register: 'CS' | 'DS';
  readonly descriptor: SegmentDescriptor | null;
  readonly linear: number | null;
  readonly fault: SegmentFault | null;
}

/** parseNumber reads hex (0x...) or decimal digits up to `max`, else NaN. */
export function parseNumber(t: string, max: number): number {
  const ok = /^0x[0-9a-f]{1,8}$/i.test(t) || /^\d{1,10}$/.test(t);
  const v = ok ? Number(t) : NaN;
  return Number.isInteger(v) && v <= max ? v : NaN;
}

/** parseLogical reads `SEL:OFFSET` (each hex or decimal), or returns null when `text` has no colon. */
export function parseLogical(text: string): Logical | null {
  const t = text.trim().replace(/_/g, '');
  const colon = t.indexOf(':');
  if (colon < 0) return null;
  const selector = parseNumber(t.slice(0, colon), 0xffff);
  const offset = parseNumber(t.slice(colon + 1), 0xffffffff);
  if (Number.isNaN(selector))
    throw new PagelabError(`bad address '${text}': expected a 16-bit selector before the colon (0x10:0xC0100000)`);
  if (Number.isNaN(offset))
    throw new PagelabError(`bad address '${text}': expected a 32-bit offset after the colon (0x10:0xC0100000)`);
  return { selector, offset };
}

/** scratchUnit copies the machine's GDTR and CPL into a unit that reads the table without side effects. */
function scratchUnit(m: Machine, cpl: 0 | 3, userCode: number, userData: number): Segmentation {
  const bus = {
    readSystem32: (l: number) => {
      const w = m.mmu.probe(l, ACCESS_READ, false);
      if (w.phys < 0) throw new SegmentFault('gp', 0, `the descriptor table at ${hex(l)} is not mapped`);
      return m.mem.read32(w.phys);
    },
    writeSystem32: () => undefined,
  };
  const unit = new Segmentation(bus, m.seg.profile);
  unit.lgdt(m.seg.gdtr.base, m.seg.gdtr.limit);
  if (cpl === 3) unit.iretToOuter(userCode, userData);
  return unit;
}

/** segmentStep loads the selector as the access would (CS for a fetch, else DS) and checks the access. */
export function segmentStep(
  m: Machine,
  l: Logical,
  kind: AccessKind,
  cpl: 0 | 3,
  user: { code: number; data: number },
): SegmentStep {
  const reg: SegmentRegister = kind === ACCESS_FETCH ? CS : DS;
  const register = SEGMENT_NAMES[reg] as 'CS' | 'DS';
  try {
    const unit = scratchUnit(m, cpl, user.code, user.data);
    if (reg === CS) unit.farJump(l.selector, l.offset);
    else unit.load(DS, l.selector);
    const r = unit.translateLogical(reg, l.offset, 1, kind);
    const descriptor = unit.cache(reg);
    if (r.kind === 'fault') return { register, descriptor, linear: null, fault: r.fault };
    return { register, descriptor, linear: r.linear, fault: null };
  } catch (e) {
    if (e instanceof SegmentFault) return { register, descriptor: null, linear: null, fault: e };
    throw e;
  }
}

/** describeDescriptor gives a one-line view of a code or data descriptor. */
export function describeDescriptor(d: SegmentDescriptor): string {
  const what = isCode(d)
    ? `code${d.type & 2 ? ', readable' : ', execute-only'}${d.type & 4 ? ', conforming' : ''}`
    : `data${d.type & 2 ? ', writable' : ', read-only'}${d.type & 4 ? ', expand-down' : ''}`;
  return `base ${hex(d.base)}, limit ${hex(effectiveLimit(d))}, DPL ${d.dpl}, ${what}`;
}

/** formatSegmentStep prints the step as the first lines of translate's output. */
export function formatSegmentStep(l: Logical, s: SegmentStep): string[] {
  const head = `logical ${hex(l.selector, 4)}:${hex(l.offset)} = selector index ${selectorIndex(l.selector)}`;
  const table = `${l.selector & 4 ? 'LDT' : 'GDT'}, RPL ${l.selector & 3}`;
  const lines = [`${head} (${table}), loaded into ${s.register}`];
  if (s.descriptor !== null) lines.push(`  descriptor: ${describeDescriptor(s.descriptor)}`);
  if (s.fault !== null) lines.push(`  stops: ${s.fault.message} (vector ${s.fault.vector})`);
  else lines.push(`  linear ${hex(s.linear ?? 0)} = base + offset`);
  return lines;
}

/** segmentJson is the step for `--json`: {selector, offset, register, descriptor, linear, fault}. */
export function segmentJson(l: Logical, s: SegmentStep): Record<string, unknown> {
  const d = s.descriptor;
  return {
    selector: l.selector,
    offset: l.offset,
    register: s.register,
    descriptor: d === null ? null : { base: d.base, limit: effectiveLimit(d), type: d.type, dpl: d.dpl },
    linear: s.linear,
    fault:
      s.fault === null
        ? null
        : { kind: s.fault.kind, vector: s.fault.vector, errorCode: s.fault.errorCode, reason: s.fault.reason },
  };
}
