// The address-space registry: every live address space, as a record in a
// RAM table (ramtable.ts) the kernel allocated from its frame allocator.
// What the kernel does to "every directory" (a new kernel PDE, forgetting a
// freed one, finding the space CR3 holds) walks this table, as i386 Linux
// walks its pgd_list; the JS AddressSpace objects are handles that name a
// record and are checked against it on use.
//
// struct space_desc (16 bytes): u32 magic 'VMSP' (0 when free); u32 id; u32 directory (physical);
//                               u32 counts (physical: the frame of 1024 present-PTE counts).
// The table's frames carry magic 'VMST'. The kernel's own space is the first record (id 1).

import { PAGE_SIZE, hex, type PhysAddr } from '../../hw/addr.js';
import type { PhysAccess } from '../physaccess.js';
import { VmError } from './error.js';
import { RamTable, type RecordRef, type TableFrames } from './ramtable.js';

export const REGISTRY_MAGIC = 0x54534d56; // 'VMST'
export const SPACE_MAGIC = 0x50534d56; // 'VMSP'
export const REGISTRY_NAME = 'address-space registry';

/** One registered address space, as RAM says. */
export interface SpaceDesc {
  readonly ref: RecordRef;
  readonly directory: PhysAddr;
  readonly counts: PhysAddr;
}

export class SpaceRegistry {
  private constructor(readonly table: RamTable) {}

  /** create lays out an empty registry in a frame from `frames`; null when none is free. */
  static create(mem: PhysAccess, frames: TableFrames): SpaceRegistry | null {
    const table = RamTable.create(mem, frames, {
      name: REGISTRY_NAME,
      tableMagic: REGISTRY_MAGIC,
      recordMagic: SPACE_MAGIC,
      words: 4,
      corrupt: (detail) => registryCorrupted(detail),
    });
    return table === null ? null : new SpaceRegistry(table);
  }

  /** list reads every registered space from RAM, checking each names two frames. */
  list(): SpaceDesc[] {
    return this.table.records().map((r) => describe(r.at, r.id, r.data));
  }

  /** lookup reads the record a handle names: the space if it is still registered, else null. */
  lookup(ref: RecordRef): SpaceDesc | null {
    const r = this.table.read(ref);
    return r === null ? null : describe(r.at, r.id, r.data);
  }

  /** byDirectory finds the registered space with this directory, or null. */
  byDirectory(directory: number): SpaceDesc | null {
    return this.list().find((d) => d.directory === directory) ?? null;
  }

  /** add registers a space; null when the registry needs a frame and none is free. */
  add(directory: PhysAddr, counts: PhysAddr): RecordRef | null {
    return this.table.insert([directory, counts]);
  }

  /** remove deregisters a space. */
  remove(ref: RecordRef): void {
    this.table.remove(ref);
  }
}

/** registryCorrupted is the error for a registry in RAM that fails a check. */
function registryCorrupted(detail: string): VmError {
  return new VmError('corrupted', `${REGISTRY_NAME} corrupted (${detail})`);
}

/** describe checks a record's two frame words and names them. */
function describe(at: PhysAddr, id: number, data: readonly number[]): SpaceDesc {
  const directory = data[0];
  const counts = data[1]; // checked without building arrays: every mapping operation's liveness check comes here
  checkFrameWord(at, id, 'directory', directory);
  checkFrameWord(at, id, 'count frame', counts);
  return { ref: { at, id }, directory: directory as PhysAddr, counts: counts as PhysAddr };
}

/** checkFrameWord throws unless a record's word v names a frame (non-zero, page-aligned). */
function checkFrameWord(at: PhysAddr, id: number, what: string, v: number): void {
  if (v === 0 || v % PAGE_SIZE !== 0)
    throw registryCorrupted(`space ${id} at ${hex(at)}: ${what} ${hex(v)} is not a frame`);
}
