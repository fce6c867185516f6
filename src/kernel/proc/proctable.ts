// The process table: a RAM table (../vm/ramtable.ts) beside the address-space
// registry, one record per live process: [magic, pid, descriptor, directory].
// The record id is the pid (ids are never reused). The JS maps are caches of
// where each record is and of each space's handle, checked against RAM on lookup.

import { hex, type PhysAddr } from '../../hw/addr.js';
import type { Machine } from '../../hw/machine.js';
import type { PhysAccess } from '../physaccess.js';
import { RamTable, type RecordRef, type TableFrames } from '../vm/ramtable.js';
import type { AddressSpace } from '../vm/space.js';
import { ProcError } from './api.js';
import type { ProcHandle } from './ctx.js';
import { P_DIRECTORY, P_MAGIC, P_PID, PRECORD_MAGIC, PROC_MAGIC, PTABLE_MAGIC } from './layout.js';

export class ProcTable {
  private readonly refs = new Map<number, RecordRef>();
  private readonly spaces = new Map<number, AddressSpace>();

  private constructor(
    readonly table: RamTable,
    private readonly machine: Machine,
  ) {}

  /** create lays out an empty table in a frame; null when none is free. */
  static create(mem: PhysAccess, frames: TableFrames, machine: Machine): ProcTable | null {
    const table = RamTable.create(mem, frames, {
      name: 'process table',
      tableMagic: PTABLE_MAGIC,
      recordMagic: PRECORD_MAGIC,
      words: 4,
      corrupt: (detail) => new ProcError('corrupted', `process table corrupted (${detail})`),
    });
    return table === null ? null : new ProcTable(table, machine);
  }

  /** add records a process; returns its pid, or null when the table needs a frame and none is free. */
  add(desc: number, space: AddressSpace): number | null {
    const ref = this.table.insert([desc, space.directory]);
    if (ref === null) return null;
    this.refs.set(ref.id, ref);
    this.spaces.set(ref.id, space);
    return ref.id;
  }

  /** remove deletes a process's record. */
  remove(pid: number): void {
    const ref = this.refs.get(pid);
    if (ref === undefined) throw new ProcError('no-process', `no process ${pid}`);
    this.table.remove(ref);
    this.refs.delete(pid);
    this.spaces.delete(pid);
  }

  /** pids lists the live pids from the table in RAM. */
  pids(): number[] {
    return this.table
      .records()
      .map((r) => r.id)
      .sort((a, b) => a - b);
  }

  /** open finds a live process and checks its record and descriptor in RAM agree (else 'corrupted'). */
  open(pid: number): ProcHandle {
    const ref = this.refs.get(pid);
    const rec = ref === undefined ? null : this.table.read(ref);
    if (rec === null) throw new ProcError('no-process', `no process ${pid}`);
    const [desc, directory] = rec.data;
    const space = this.spaces.get(pid);
    if (space?.directory !== directory)
      throw new ProcError('corrupted', `process table: pid ${pid}'s directory ${hex(directory)} is no space it had`);
    checkDescriptor(this.machine, pid, desc, directory);
    return { pid, desc, space };
  }

  /** has tells whether pid is live (its record is in RAM). */
  has(pid: number): boolean {
    const ref = this.refs.get(pid);
    return ref !== undefined && this.table.read(ref) !== null;
  }

  /** spaceOf gives the handle of the space the table names for pid (null if none). */
  spaceOf(pid: number): AddressSpace | null {
    return this.spaces.get(pid) ?? null;
  }

  /** directoryOf reads a process's directory from its record. */
  directoryOf(pid: number): PhysAddr | null {
    const ref = this.refs.get(pid);
    const rec = ref === undefined ? null : this.table.read(ref);
    return rec === null ? null : (rec.data[1] as PhysAddr);
  }
}

/** checkDescriptor checks a descriptor's magic, pid and directory against the table's record. */
function checkDescriptor(m: Machine, pid: number, desc: number, directory: number): void {
  const what = `process ${pid}'s descriptor at ${hex(desc)}`;
  if (desc % 4 !== 0 || desc < 0xc0000000) throw new ProcError('corrupted', `${what}: not a kernel address`);
  const magic = m.read32(desc + P_MAGIC);
  if (magic !== PROC_MAGIC) throw new ProcError('corrupted', `${what}: magic ${hex(magic)}, expected 'PROC'`);
  const p = m.read32(desc + P_PID);
  if (p !== pid) throw new ProcError('corrupted', `${what}: holds pid ${p}`);
  const d = m.read32(desc + P_DIRECTORY);
  if (d !== directory)
    throw new ProcError('corrupted', `${what}: directory ${hex(d)}, the table says ${hex(directory)}`);
}
