// A bounds-checked little-endian reader over a byte array: every read names
// what it is reading, so a short or malformed file fails with a ParseError
// that says where and what was expected.

import { ParseError } from '../errors.js';

export class ByteReader {
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {}

  get length(): number {
    return this.bytes.length;
  }

  /** need checks that [offset, offset + size) lies inside the bytes. */
  need(offset: number, size: number, field: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > this.bytes.length) {
      throw new ParseError(
        this.what,
        Math.max(0, Math.min(offset, this.bytes.length)),
        `${field} (${size} bytes), but the data is ${this.bytes.length} bytes long`,
      );
    }
  }

  /** u8 reads one byte. */
  u8(offset: number, field: string): number {
    this.need(offset, 1, field);
    return this.bytes[offset];
  }

  /** u16 reads a little-endian 16-bit value. */
  u16(offset: number, field: string): number {
    this.need(offset, 2, field);
    return this.bytes[offset] | (this.bytes[offset + 1] << 8);
  }

  /** u32 reads a little-endian unsigned 32-bit value. */
  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    const b = this.bytes;
    return (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16) | (b[offset + 3] << 24)) >>> 0;
  }

  /** cstring reads a NUL-terminated string starting at offset, ending before `limit`. */
  cstring(offset: number, limit: number, field: string): string {
    let end = offset;
    while (end < limit && end < this.bytes.length && this.bytes[end] !== 0) end++;
    if (end >= limit || end >= this.bytes.length) {
      throw new ParseError(
        this.what,
        offset,
        `${field}: a NUL-terminated string before offset 0x${limit.toString(16)}`,
      );
    }
    return latin1(this.bytes.subarray(offset, end));
  }

  /** fail throws a ParseError at offset. */
  fail(offset: number, expected: string): never {
    throw new ParseError(this.what, offset, expected);
  }
}

/** latin1 decodes bytes one character per byte (names and command lines are ASCII). */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
