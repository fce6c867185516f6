// A kernel table in RAM: fixed-size records in a chain of 4 KiB frames from
// the frame allocator, reached through the temporary-mapping slot, as a C
// kernel's `struct foo table[]` grown a page at a time. The address-space
// registry is one (registry.ts); the process table can be another, with its
// own magics and record size, beside it.
//
// Layout (little-endian u32s):
//   frame header  0x00 magic (the table's)   0x04 count (live records in this frame)
//                 0x08 next (physical address of the next frame, 0 = last)
//                 0x0C next_id (first frame only: the id the next record gets; ids are never reused)
//   records from 0x10, `words` u32 each: word 0 the record magic when live (0 when free), word 1 its id,
//                 then the caller's words.
// A frame other than the first goes back to the frame allocator when its last record is removed.
// Every walk checks each frame's magic, its count and each record's magic, and throws (through
// `corrupt`) naming what it found: a C kernel reading this memory would follow it or stop there.

import { PAGE_SIZE, hex, phys, physOffset, type PhysAddr } from '../../hw/addr.js';
import type { PhysAccess } from '../physaccess.js';

const T_MAGIC = 0x00;
const T_COUNT = 0x04;
const T_NEXT = 0x08;
const T_NEXT_ID = 0x0c;
const T_RECORDS = 0x10;
const FRAME_BYTES = PAGE_SIZE;

/** What a table is: its magics, its record size and how it reports corruption. */
export interface RamTableSpec {
  /** What the messages call it ("address-space registry"). */
  readonly name: string;
  readonly tableMagic: number;
  readonly recordMagic: number;
  /** u32 words per record, the magic and the id included (at least 2). */
  readonly words: number;
  /** Builds the error thrown when RAM fails a check. */
  readonly corrupt: (detail: string) => Error;
}

/** Where a record lives and which record it is: a C pointer to the record, and its id to catch reuse. */
export interface RecordRef {
  readonly at: PhysAddr;
  readonly id: number;
}

/** A live record: where it is, its id and the caller's words (after the magic and the id). */
export interface TableRecord extends RecordRef {
  readonly data: readonly number[];
}

/** The frames a table takes and gives back. */
export interface TableFrames {
  alloc(): PhysAddr | null;
  free(frame: PhysAddr): void;
}

export class RamTable {
  /** Records per frame. */
  readonly capacity: number;

  /** `first` is the table's first frame, already laid out by RamTable.create. */
  private constructor(
    private readonly pa: PhysAccess,
    private readonly frames: TableFrames,
    readonly spec: RamTableSpec,
    readonly first: PhysAddr,
  ) {
    this.capacity = Math.floor((FRAME_BYTES - T_RECORDS) / (4 * spec.words));
  }

  /** create takes a frame and lays out an empty table in it; null when no frame is free. */
  static create(mem: PhysAccess, frames: TableFrames, spec: RamTableSpec): RamTable | null {
    const first = frames.alloc();
    if (first === null) return null;
    initFrame(mem, first, spec.tableMagic);
    mem.write32(physOffset(first, T_NEXT_ID), 1);
    return new RamTable(mem, frames, spec, first);
  }

  /**
   * records walks the table in RAM and returns every live record, checking what it reads. A frame's
   * scan stops at its count of live records (as a C loop would), unless `full`, which reads every
   * place and checks the count (the audit's walk).
   */
  records(full = false): TableRecord[] {
    const out: TableRecord[] = [];
    for (const frame of this.chain()) {
      const count = this.pa.read32(physOffset(frame, T_COUNT));
      if (count > this.capacity) throw this.spec.corrupt(`frame ${hex(frame)} counts ${count} records`);
      let live = 0;
      for (let i = 0; i < this.capacity && (full || live < count); i++) {
        const r = this.recordAt(frame, i);
        if (r === null) continue;
        out.push(r);
        live++;
      }
      if (count !== live) throw this.spec.corrupt(`frame ${hex(frame)} counts ${count} records, holds ${live}`);
    }
    return out;
  }

  /** read gives the record `ref` points at if it is still that record (live, same id), else null. */
  read(ref: RecordRef): TableRecord | null {
    const w = this.readWords(ref.at, this.spec.words);
    if (w[0] !== this.spec.recordMagic || w[1] !== ref.id) return null;
    return { at: ref.at, id: ref.id, data: w.slice(2) };
  }

  /** insert stores a record (the caller's words) in the first free place, growing the table by a frame if full. */
  insert(data: readonly number[]): RecordRef | null {
    if (data.length !== this.spec.words - 2)
      throw new Error(`${this.spec.name}: a record has ${this.spec.words - 2} words`);
    const place = this.freePlace();
    if (place === null) return null;
    const id = this.pa.read32(physOffset(this.first, T_NEXT_ID));
    this.pa.write32(physOffset(this.first, T_NEXT_ID), id + 1);
    const at = physOffset(place.frame, T_RECORDS + 4 * this.spec.words * place.index);
    [this.spec.recordMagic, id, ...data].forEach((v, i) => this.pa.write32(physOffset(at, 4 * i), v));
    this.addCount(place.frame, 1);
    return { at, id };
  }

  /** remove clears a live record; a frame other than the first is unlinked and freed once empty. */
  remove(ref: RecordRef): void {
    if (this.read(ref) === null) throw this.spec.corrupt(`no live record ${ref.id} at ${hex(ref.at)}`);
    for (let i = 0; i < this.spec.words; i++) this.pa.write32(physOffset(ref.at, 4 * i), 0);
    const frame = (ref.at - (ref.at % FRAME_BYTES)) as PhysAddr;
    if (this.addCount(frame, -1) === 0 && frame !== this.first) this.release(frame);
  }

  /** frameList lists the table's frames in chain order (for audits). */
  frameList(): PhysAddr[] {
    return this.chain();
  }

  /** chain follows the frames from the first, checking each magic and that the chain does not loop. */
  private chain(): PhysAddr[] {
    const out: PhysAddr[] = [];
    for (let f = this.first; f !== 0; f = phys(this.pa.read32(physOffset(f, T_NEXT)))) {
      if (f % FRAME_BYTES !== 0) throw this.spec.corrupt(`next frame link ${hex(f)} is not a frame`);
      if (out.includes(f)) throw this.spec.corrupt(`the frame chain loops at ${hex(f)}`);
      const magic = this.pa.read32(physOffset(f, T_MAGIC));
      if (magic !== this.spec.tableMagic) throw this.spec.corrupt(`frame ${hex(f)} has magic ${hex(magic)}`);
      out.push(f);
    }
    return out;
  }

  /** recordAt reads record i of a frame: the record if live, null if free; any other magic is corruption. */
  private recordAt(frame: PhysAddr, i: number): TableRecord | null {
    const at = physOffset(frame, T_RECORDS + 4 * this.spec.words * i);
    const w = this.readWords(at, this.spec.words);
    if (w[0] === 0) return null;
    if (w[0] !== this.spec.recordMagic) throw this.spec.corrupt(`record at ${hex(at)} has magic ${hex(w[0])}`);
    return { at, id: w[1], data: w.slice(2) };
  }

  /** freePlace finds a free record in a frame whose count says it has room, or links a new frame. */
  private freePlace(): { frame: PhysAddr; index: number } | null {
    const chain = this.chain();
    for (const frame of chain) {
      const count = this.pa.read32(physOffset(frame, T_COUNT));
      if (count > this.capacity) throw this.spec.corrupt(`frame ${hex(frame)} counts ${count} records`);
      if (count === this.capacity) continue;
      for (let i = 0; i < this.capacity; i++) if (this.recordAt(frame, i) === null) return { frame, index: i };
      throw this.spec.corrupt(`frame ${hex(frame)} counts ${count} records but has no free one`);
    }
    const frame = this.frames.alloc();
    if (frame === null) return null;
    initFrame(this.pa, frame, this.spec.tableMagic);
    this.pa.write32(physOffset(chain[chain.length - 1], T_NEXT), frame);
    return { frame, index: 0 };
  }

  /** release unlinks an empty frame from the chain and gives it back. */
  private release(frame: PhysAddr): void {
    const chain = this.chain();
    const prev = chain[chain.indexOf(frame) - 1];
    this.pa.write32(physOffset(prev, T_NEXT), this.pa.read32(physOffset(frame, T_NEXT)));
    this.frames.free(frame);
  }

  /** addCount adjusts a frame's live-record count and returns the new count. */
  private addCount(frame: PhysAddr, delta: number): number {
    const n = this.pa.read32(physOffset(frame, T_COUNT)) + delta;
    this.pa.write32(physOffset(frame, T_COUNT), n);
    return n;
  }

  /** readWords reads n consecutive u32s. */
  private readWords(at: PhysAddr, n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.pa.read32(physOffset(at, 4 * i)));
    return out;
  }
}

/** initFrame zeroes a table frame and writes its magic. */
function initFrame(mem: PhysAccess, frame: PhysAddr, magic: number): void {
  mem.fillFrame(frame, 0);
  mem.write32(physOffset(frame, T_MAGIC), magic);
}
