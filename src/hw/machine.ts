// The simulated PC: physical memory plus the MMU, and the linear-address
// accesses a CPU makes (1, 2 or 4 bytes, any alignment, reads, writes and
// instruction fetches). A page fault goes to the installed handler (the IDT's
// vector 14); if there is none, or it cannot resolve the fault, it is thrown.

import { lin as toLin } from './addr.js';
import { PhysicalMemory, pcLayout, type RamRange } from './memory.js';
import { Mmu } from './mmu.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, PageFault, type AccessKind } from './fault.js';
import { Segmentation, type SegmentationProfile } from './segments.js';
import { DEFAULT_TLB, parseTlb, type TlbGeometry } from './tlb.js';
import type { AccessedOrder, MaxPhysAddr, RsvdErrorCode } from './walk.js';
import type { PagingProfile } from './pae.js';

export type AccessSize = 1 | 2 | 4;

export interface MachineOptions {
  /** RAM size in bytes (PC layout with the 640 KiB-1 MiB hole) or explicit ranges. Default 128 MiB. */
  readonly ram?: number | readonly RamRange[];
  /** TLB geometry, or a spec such as 'sa:16x4', 'fa:64', 'dm:64', 'none'. */
  readonly tlb?: TlbGeometry | string;
  /** Throw BusError on physical accesses outside RAM. */
  readonly strictMemory?: boolean;
  readonly accessedOrder?: AccessedOrder;
  /** Error code of reserved-bit faults: 'sdm' (default, P=1) or 'qemu' (QEMU 7.2's P=0). */
  readonly rsvdErrorCode?: RsvdErrorCode;
  /** MAXPHYADDR for PSE-36 4 MiB pages: 40 (default; QEMU's behaviour), 36, or 32 (no PSE-36). */
  readonly maxPhysAddr?: MaxPhysAddr;
  /** Checks made by accesses through segment registers: 'sdm' (default) or 'qemu' (none, as QEMU's TCG). */
  readonly segmentation?: SegmentationProfile;
  /** IA32_EFER at reset: 0 (default) or EFER_NXE (0x800), the only bit modelled; `mmu.writeEfer` changes it. */
  readonly efer?: number;
  /** PAE paging: 'sdm' (default; PDPTE registers, #GP at MOV CR3) or 'qemu' (QEMU 7.2's re-reads), see pae.ts. */
  readonly pagingProfile?: PagingProfile;
}

/**
 * A page-fault handler: return true once the fault is resolved (the access is
 * retried), false to let the fault propagate as a thrown PageFault.
 */
export type PageFaultHandler = (fault: PageFault, machine: Machine) => boolean;

/**
 * Module-local copies of the access kinds for the inlined fast paths (read32,
 * write32): V8 folds a module's own constants but reloads imported ones on every use.
 */
const READ = ACCESS_READ;
const WRITE = ACCESS_WRITE;

/** How often one access may fault and be retried before the fault propagates. */
const MAX_FAULT_RETRIES = 4;
export const DEFAULT_RAM = 128 * 1024 * 1024;

export class Machine {
  readonly mem: PhysicalMemory;
  readonly mmu: Mmu;
  /** The segmentation unit (GDTR, LDTR, segment registers), flat as a multiboot loader leaves it. */
  readonly seg: Segmentation;
  pageFaultHandler: PageFaultHandler | null = null;

  constructor(options: MachineOptions = {}) {
    const ram = options.ram ?? DEFAULT_RAM;
    this.mem = new PhysicalMemory(typeof ram === 'number' ? pcLayout(ram) : ram, {
      strict: options.strictMemory ?? false,
    });
    const tlb = typeof options.tlb === 'string' ? parseTlb(options.tlb) : (options.tlb ?? DEFAULT_TLB);
    this.mmu = new Mmu(
      this.mem,
      tlb,
      options.accessedOrder ?? 'qemu',
      options.rsvdErrorCode ?? 'sdm',
      options.maxPhysAddr ?? 40,
      options.pagingProfile ?? 'sdm',
    );
    this.mmu.writeEfer(options.efer ?? 0);
    this.seg = new Segmentation(
      {
        readSystem32: (l) => this.system(() => this.read32(l)),
        writeSystem32: (l, v) => this.system(() => this.write32(l, v)),
      },
      options.segmentation ?? 'sdm',
    );
  }

  /**
   * system runs a descriptor-table access as the implicit supervisor-mode access it is (SDM 4.6: reads of the
   * GDT or LDT are supervisor accesses whatever the CPL, and SMAP-checked whatever EFLAGS.AC).
   */
  private system<T>(access: () => T): T {
    const cpl = this.mmu.cpl;
    const ac = this.mmu.ac;
    if (cpl === 0 && !ac) return access();
    this.mmu.setCpl(0);
    // SDM 4.6.1: with CR4.SMAP, implicit supervisor accesses to user-mode addresses fault whatever EFLAGS.AC.
    this.mmu.setAc(false);
    try {
      return access();
    } finally {
      this.mmu.setCpl(cpl);
      this.mmu.setAc(ac);
    }
  }

  /** read reads `size` bytes at a linear address (little-endian, unsigned). */
  read(linear: number, size: AccessSize = 4, kind: AccessKind = ACCESS_READ): number {
    const l = linear >>> 0;
    if ((l & 0xfff) + size <= 4096) return this.mem.read(this.xlate(l, kind, size), size);
    return this.readSplit(l, size, kind);
  }

  /** write writes the low `size` bytes of value at a linear address. */
  write(linear: number, value: number, size: AccessSize = 4): void {
    const l = linear >>> 0;
    if ((l & 0xfff) + size <= 4096) {
      this.mem.write(this.xlate(l, ACCESS_WRITE, size), value, size);
      return;
    }
    this.writeSplit(l, value, size);
  }

  read8(linear: number): number {
    return this.read(linear, 1);
  }
  read16(linear: number): number {
    return this.read(linear, 2);
  }
  write8(linear: number, v: number): void {
    this.write(linear, v, 1);
  }
  write16(linear: number, v: number): void {
    this.write(linear, v, 2);
  }

  /** read32 is read(linear, 4) with the common case (no fault, one page) inlined. */
  read32(linear: number): number {
    if ((linear & 0xfff) <= 0xffc) {
      const p = this.mmu.translateHit(linear, READ); // a miss or fault goes the whole way once, in read()
      if (p >= 0) return this.mem.read32(p);
    }
    return this.read(linear, 4);
  }

  /** write32 is write(linear, v, 4) with the common case inlined. */
  write32(linear: number, v: number): void {
    if ((linear & 0xfff) <= 0xffc) {
      const p = this.mmu.translateHit(linear, WRITE);
      if (p >= 0) {
        this.mem.write32(p, v);
        return;
      }
    }
    this.write(linear, v, 4);
  }

  /** fetch reads instruction bytes (an instruction-fetch access). */
  fetch(linear: number, size: AccessSize = 1): number {
    return this.read(linear, size, ACCESS_FETCH);
  }

  /** readBytes copies `length` bytes starting at a linear address. */
  readBytes(linear: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read((linear + i) >>> 0, 1);
    return out;
  }

  /**
   * writeBytes stores bytes starting at a linear address, as byte stores in order would: one write translation
   * per page touched (its faults, A and D as for the page's first byte, SDM 4.7, 4.8), then a copy into the frame.
   */
  writeBytes(linear: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length;) {
      const l = (linear + i) >>> 0;
      const n = Math.min(bytes.length - i, 4096 - (l & 0xfff));
      this.mem.writeBytes(this.xlate(l, ACCESS_WRITE, 1), bytes.subarray(i, i + n));
      i += n;
    }
  }

  /** fill sets `length` bytes from a linear address to `value` (its low byte), translating as writeBytes does. */
  fill(linear: number, length: number, value: number): void {
    for (let i = 0; i < length;) {
      const l = (linear + i) >>> 0;
      const n = Math.min(length - i, 4096 - (l & 0xfff));
      this.mem.fill(this.xlate(l, ACCESS_WRITE, 1), n, value & 0xff);
      i += n;
    }
  }

  /**
   * translateOrFault returns the physical address for one access, delivering
   * page faults to the handler and retrying; throws PageFault if unresolved.
   */
  xlate(linear: number, kind: AccessKind, size: number): number {
    for (let tries = 0; ; tries++) {
      const phys = this.mmu.translate(linear, kind);
      if (phys >= 0) return phys;
      const fault = new PageFault(toLin(this.mmu.cr2), this.mmu.faultCode, kind, size, this.mmu.cpl);
      const handler = this.pageFaultHandler;
      if (handler === null || tries >= MAX_FAULT_RETRIES || !handler(fault, this)) throw fault;
    }
  }

  /**
   * readSplit reads an access that straddles two pages. As QEMU does, the first
   * page is translated at the access's address, then the second at its first
   * byte; a fault on either is reported with that address.
   */
  private readSplit(l: number, size: AccessSize, kind: AccessKind): number {
    const p1 = this.xlate(l, kind, size);
    const second = (l + size) & ~0xfff;
    const p2 = this.xlate(second >>> 0, kind, size);
    const n1 = 4096 - (l & 0xfff);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.mem.read8(i < n1 ? p1 + i : p2 + i - n1);
    return v;
  }

  /**
   * writeSplit checks both pages before writing anything, so a fault on the
   * second page leaves memory unchanged (the first page's A/D are already set).
   */
  private writeSplit(l: number, value: number, size: AccessSize): void {
    const p1 = this.xlate(l, ACCESS_WRITE, size);
    const p2 = this.xlate(((l + size) & ~0xfff) >>> 0, ACCESS_WRITE, size);
    const n1 = 4096 - (l & 0xfff);
    for (let i = 0; i < size; i++) this.mem.write8(i < n1 ? p1 + i : p2 + i - n1, (value >>> (8 * i)) & 0xff);
  }
}
