// What the walk, directory and frame views look at: the machine booted in the
// page, or a dropped memory dump with its registers. Both give a PhysReader,
// the control registers and a side-effect-free walk.

import { largeReservedMask } from '../../src/hw/walk.js';
import { WalkState, walk, type PagingMode } from '../../src/hw/walk.js';
import type { AccessKind } from '../../src/hw/fault.js';
import { CR0_WP, CR4_PSE } from '../../src/hw/paging.js';
import type { PhysReader } from '../../src/tools/inspect/image.js';
import type { Registers } from '../../src/tools/inspect/regs.js';
import type { Session } from './session.js';

export interface Target {
  /** 'boot' for the machine booted in the page, 'dump' for a dropped image. */
  readonly kind: 'boot' | 'dump';
  readonly label: string;
  readonly reader: PhysReader;
  readonly regs: Registers;
  /** The paging mode the walk uses (CR3, PSE, WP and the model's choices). */
  readonly mode: PagingMode;
  /** probe walks `linear` as the CPU would for this access, changing nothing. */
  probe(linear: number, kind: AccessKind, user: boolean): WalkState;
  readonly session?: Session;
}

/** sessionTarget views the booted machine through its MMU's probe. */
export function sessionTarget(s: Session): Target {
  const mem = s.machine.mem;
  const mmu = s.machine.mmu;
  const reader: PhysReader = {
    size: mem.top,
    read32: (p) => mem.read32(p) >>> 0,
    write32: () => {
      throw new Error('the views never write memory');
    },
  };
  return {
    kind: 'boot',
    label: `the default kernel booted in the page (${s.result.ram / 2 ** 20} MiB)`,
    reader,
    get regs() {
      return { cr0: mmu.cr0 >>> 0, cr3: mmu.cr3 >>> 0, cr4: mmu.cr4 >>> 0 };
    },
    mode: mmu,
    probe: (linear, kind, user) => mmu.probe(linear, kind, user),
    session: s,
  };
}

/** dumpTarget views an image with its registers, walking as `pagelab inspect --translate` does. */
export function dumpTarget(label: string, reader: PhysReader, regs: Registers): Target {
  const mode: PagingMode = {
    cr3: regs.cr3,
    pse: (regs.cr4 & CR4_PSE) !== 0,
    wp: (regs.cr0 & CR0_WP) !== 0,
    accessedOrder: 'qemu',
    rsvdErrorCode: 'sdm',
    largeReserved: largeReservedMask(40),
  };
  return {
    kind: 'dump',
    label,
    reader,
    regs,
    mode,
    probe: (linear, kind, user) => {
      const w = new WalkState();
      walk(reader, mode, linear >>> 0, kind, user, false, w);
      return w;
    },
  };
}

/** A write the walk would make to a paging-structure entry (setting A or D). */
export interface EntryWrite {
  readonly addr: number;
  readonly old: number;
  readonly value: number;
}

/**
 * walkWrites runs the committing walk (the one an access makes) over an overlay of
 * memory and returns the A/D writes it would make, leaving memory as it was.
 */
export function walkWrites(t: Target, linear: number, kind: AccessKind, user: boolean): EntryWrite[] {
  const overlay = new Map<number, number>();
  const writes: EntryWrite[] = [];
  const read32 = (p: number): number => overlay.get(p) ?? t.reader.read32(p) >>> 0;
  const bus = {
    read32,
    write32: (p: number, v: number): void => {
      writes.push({ addr: p, old: read32(p), value: v >>> 0 });
      overlay.set(p, v >>> 0);
    },
  };
  walk(bus, t.mode, linear >>> 0, kind, user, true, new WalkState());
  return writes.filter((w) => w.old !== w.value);
}
