// The compact binary trace: packed little-endian 10-byte records, no header:
// u64 address, u8 kind (ASCII I, L, S or M), u8 size. Parsed as a stream of
// chunks; a bad kind byte or a length that is not a multiple of 10 is a
// ParseError naming the byte offset.

import { ParseError } from '../../errors.js';
import { isKindLetter, type RecordSink } from './trace.js';

export const RECORD_BYTES = 10;

export class BinaryParser {
  private readonly sink: RecordSink;
  private readonly carry = new Uint8Array(RECORD_BYTES);
  private carried = 0;
  /** Bytes consumed so far. */
  offset = 0;
  records = 0;

  constructor(sink: RecordSink) {
    this.sink = sink;
  }

  /** push parses the whole records in chunk, keeping a partial one for the next chunk. */
  push(chunk: Uint8Array): void {
    let i = 0;
    if (this.carried > 0) {
      const take = Math.min(RECORD_BYTES - this.carried, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      i = take;
      if (this.carried < RECORD_BYTES) return;
      this.parseRecord(this.carry, 0);
      this.carried = 0;
    }
    const whole = i + Math.floor((chunk.length - i) / RECORD_BYTES) * RECORD_BYTES;
    for (; i < whole; i += RECORD_BYTES) this.parseRecord(chunk, i);
    this.carry.set(chunk.subarray(whole));
    this.carried = chunk.length - whole;
  }

  /** end fails if the stream stopped inside a record. */
  end(): void {
    if (this.carried === 0) return;
    throw new ParseError(
      'binary trace',
      this.offset,
      `a whole ${RECORD_BYTES}-byte record (the file ends ${this.carried} bytes into one; its length ${this.offset + this.carried} is not a multiple of ${RECORD_BYTES})`,
    );
  }

  /** parseRecord decodes the record at b[o, o+10). */
  private parseRecord(b: Uint8Array, o: number): void {
    const kind = b[o + 8];
    if (!isKindLetter(kind)) {
      throw new ParseError(
        'binary trace',
        this.offset + 8,
        `a kind byte 'I', 'L', 'S' or 'M' (0x49, 0x4c, 0x53, 0x4d), got 0x${kind.toString(16).padStart(2, '0')}`,
      );
    }
    const lo = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
    const hi = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
    this.sink.record(lo, hi, kind, b[o + 9]);
    this.offset += RECORD_BYTES;
    this.records++;
  }
}

/** Encodes records into the binary form, a buffer at a time. Sizes above 255 are stored as 255. */
export class BinaryWriter implements RecordSink {
  private buf: Uint8Array;
  private used = 0;
  private readonly flushTo: (bytes: Uint8Array) => void;
  records = 0;
  clampedSizes = 0;

  constructor(flushTo: (bytes: Uint8Array) => void, bufferRecords = 1 << 16) {
    this.flushTo = flushTo;
    this.buf = new Uint8Array(bufferRecords * RECORD_BYTES);
  }

  /** record appends one record, handing a full buffer to flushTo. */
  record(lo: number, hi: number, kind: number, size: number): void {
    if (this.used === this.buf.length) this.flush();
    const b = this.buf;
    const o = this.used;
    b[o] = lo;
    b[o + 1] = lo >>> 8;
    b[o + 2] = lo >>> 16;
    b[o + 3] = lo >>> 24;
    b[o + 4] = hi;
    b[o + 5] = hi >>> 8;
    b[o + 6] = hi >>> 16;
    b[o + 7] = hi >>> 24;
    b[o + 8] = kind;
    if (size > 255) this.clampedSizes++;
    b[o + 9] = Math.min(size, 255);
    this.used += RECORD_BYTES;
    this.records++;
  }

  /** flush hands the buffered records to flushTo (the buffer is then replaced, never reused). */
  flush(): void {
    if (this.used === 0) return;
    this.flushTo(this.buf.subarray(0, this.used));
    this.buf = new Uint8Array(this.buf.length);
    this.used = 0;
  }
}
