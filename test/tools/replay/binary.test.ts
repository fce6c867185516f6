// The binary trace form: 10-byte little-endian records, errors at byte offsets.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { BinaryParser, BinaryWriter } from '../../../src/tools/replay/binary.js';
import type { RecordSink } from '../../../src/tools/replay/trace.js';

type Rec = [number, number, string, number];

class Collect implements RecordSink {
  readonly out: Rec[] = [];
  record(lo: number, hi: number, kind: number, size: number): void {
    this.out.push([lo, hi, String.fromCharCode(kind), size]);
  }
}

/** encode writes records with BinaryWriter (small buffers, to cross flushes). */
function encode(recs: readonly Rec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const w = new BinaryWriter((b) => parts.push(b), 3);
  for (const [lo, hi, k, s] of recs) w.record(lo, hi, k.charCodeAt(0), s);
  w.flush();
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

function decode(bytes: Uint8Array, chunk = 1 << 20): Rec[] {
  const sink = new Collect();
  const p = new BinaryParser(sink);
  for (let i = 0; i < bytes.length; i += chunk) p.push(bytes.subarray(i, i + chunk));
  p.end();
  return sink.out;
}

const recArb = fc.tuple(
  fc.nat({ max: 0xffffffff }),
  fc.nat({ max: 0xffffffff }),
  fc.constantFrom('I', 'L', 'S', 'M'),
  fc.nat({ max: 255 }),
);

describe('binary trace', () => {
  it('lays out a record as u64 LE address, kind byte, size byte', () => {
    expect([...encode([[0x0401ab70, 0x1f, 'S', 8]])]).toEqual([0x70, 0xab, 0x01, 0x04, 0x1f, 0, 0, 0, 0x53, 8]);
  });

  it('stores sizes above 255 as 255, and counts them', () => {
    const w = new BinaryWriter(() => undefined);
    w.record(0, 0, 0x4c, 512);
    expect(w.clampedSizes).toBe(1);
  });

  it('round-trips records across any chunking (property)', () => {
    fc.assert(
      fc.property(fc.array(recArb, { maxLength: 50 }), fc.integer({ min: 1, max: 23 }), (recs, chunk) => {
        expect(decode(encode(recs), chunk)).toEqual(recs);
      }),
    );
  });

  it('rejects a truncated last record, naming its offset', () => {
    const bytes = encode([
      [1, 0, 'I', 1],
      [2, 0, 'L', 4],
    ]).subarray(0, 17);
    expect(() => decode(bytes, 4)).toThrow(ParseError);
    expect(() => decode(bytes)).toThrow(/offset 0xa \(10\).*length 17 is not a multiple of 10/);
  });

  it('rejects a bad kind byte, naming its offset', () => {
    const bytes = encode([
      [1, 0, 'I', 1],
      [2, 0, 'L', 4],
    ]);
    bytes[18] = 0x58;
    expect(() => decode(bytes)).toThrow(/offset 0x12 \(18\).*got 0x58/);
  });

  it('throws nothing but ParseError on random bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 32 }), (bytes, chunk) => {
        try {
          decode(bytes, chunk);
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
