// The boot recorder: while the page boots the machine, every physical write
// (with the value it replaced), every control-register write, INVLPG and
// instruction fetch is logged in order, so each boot step can show what it
// changed. Installed on the prototypes for the duration of one boot only.

import { PhysicalMemory } from '../../src/hw/memory.js';
import { Mmu } from '../../src/hw/mmu.js';
import { Machine } from '../../src/hw/machine.js';

/** One logged event: a write of `size` bytes (old and new value) or a register/TLB operation. */
export type BootEvent =
  | {
      readonly kind: 'write';
      readonly addr: number;
      readonly size: 1 | 2 | 4;
      readonly old: number;
      readonly value: number;
    }
  | { readonly kind: 'bulk'; readonly addr: number; readonly length: number; readonly fill: number | null }
  | { readonly kind: 'cr'; readonly reg: 'cr0' | 'cr3' | 'cr4'; readonly old: number; readonly value: number }
  | { readonly kind: 'invlpg'; readonly addr: number }
  | { readonly kind: 'fetch'; readonly addr: number };

type Restore = () => void;

/** patch replaces obj[name] by wrap(original) and returns how to undo it. */
function patch<T extends object, K extends keyof T>(obj: T, name: K, wrap: (orig: T[K]) => T[K]): Restore {
  const orig = obj[name];
  obj[name] = wrap(orig);
  return () => {
    obj[name] = orig;
  };
}

/** recordWrites logs physical writes of 1, 2 and 4 bytes and bulk copies/fills. */
function recordWrites(log: BootEvent[]): Restore[] {
  const P = PhysicalMemory.prototype;
  const sized = (size: 1 | 2 | 4, read: (m: PhysicalMemory, p: number) => number) =>
    function (orig: (this: PhysicalMemory, p: number, v: number) => void) {
      return function (this: PhysicalMemory, p: number, v: number): void {
        const old = read(this, p);
        orig.call(this, p, v);
        log.push({ kind: 'write', addr: p, size, old, value: read(this, p) });
      };
    };
  return [
    patch(
      P,
      'write32',
      sized(4, (m, p) => m.read32(p)),
    ),
    patch(
      P,
      'write16',
      sized(2, (m, p) => m.read16(p)),
    ),
    patch(
      P,
      'write8',
      sized(1, (m, p) => m.read8(p)),
    ),
    patch(
      P,
      'writeBytes',
      (orig) =>
        function (this: PhysicalMemory, p: number, bytes: Uint8Array): void {
          orig.call(this, p, bytes);
          log.push({ kind: 'bulk', addr: p, length: bytes.length, fill: null });
        },
    ),
    patch(
      P,
      'fill',
      (orig) =>
        function (this: PhysicalMemory, p: number, length: number, value: number): void {
          orig.call(this, p, length, value);
          log.push({ kind: 'bulk', addr: p, length, fill: value });
        },
    ),
  ];
}

/** recordCpu logs control-register writes, INVLPG and instruction fetches. */
function recordCpu(log: BootEvent[]): Restore[] {
  const M = Mmu.prototype;
  const cr = (reg: 'cr0' | 'cr3' | 'cr4') => (orig: (this: Mmu, v: number) => void) =>
    function (this: Mmu, v: number): void {
      const old = this[reg];
      orig.call(this, v);
      log.push({ kind: 'cr', reg, old, value: this[reg] });
    };
  return [
    patch(M, 'writeCr0', cr('cr0')),
    patch(M, 'writeCr3', cr('cr3')),
    patch(M, 'writeCr4', cr('cr4')),
    patch(
      M,
      'invlpg',
      (orig) =>
        function (this: Mmu, linear: number): void {
          orig.call(this, linear);
          log.push({ kind: 'invlpg', addr: linear >>> 0 });
        },
    ),
    patch(
      Machine.prototype,
      'fetch',
      (orig) =>
        function (this: Machine, linear: number, size?: 1 | 2 | 4): number {
          log.push({ kind: 'fetch', addr: linear >>> 0 });
          return orig.call(this, linear, size);
        },
    ),
  ];
}

/** recording runs fn with the recorder installed and returns its result and the log. */
export function recording<T>(fn: () => T): { result: T; log: BootEvent[] } {
  const log: BootEvent[] = [];
  const restore = [...recordWrites(log), ...recordCpu(log)];
  try {
    return { result: fn(), log };
  } finally {
    for (const r of restore.reverse()) r();
  }
}
