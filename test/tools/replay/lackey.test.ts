// The lackey text parser: records, valgrind lines, malformed lines named by
// line number, chunk boundaries anywhere, and fuzzing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { LackeyParser } from '../../../src/tools/replay/lackey.js';
import type { RecordSink } from '../../../src/tools/replay/trace.js';

type Rec = [lo: number, hi: number, kind: string, size: number];

class Collect implements RecordSink {
  readonly out: Rec[] = [];
  record(lo: number, hi: number, kind: number, size: number): void {
    this.out.push([lo, hi, String.fromCharCode(kind), size]);
  }
}

/** parse feeds text to a parser in chunks of the given sizes (cycled) and returns the records. */
function parse(
  text: string,
  chunkSizes: number[] = [1 << 20],
  lenient = false,
): { recs: Rec[]; skipped: Array<[number, boolean]> } {
  const sink = new Collect();
  const skipped: Array<[number, boolean]> = [];
  const p = new LackeyParser(sink, { lenient, onSkip: (l, bad) => skipped.push([l, bad]) });
  const bytes = new TextEncoder().encode(text);
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = Math.max(1, chunkSizes[k % chunkSizes.length]);
    p.push(bytes.subarray(i, i + n));
    i += n;
  }
  p.end();
  return { recs: sink.out, skipped };
}

function errorOf(text: string): ParseError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('lackey text', () => {
  it('reads the four kinds, 64-bit addresses and sizes, and skips == lines', () => {
    const { recs, skipped } = parse(
      '==1== hello\nI  0401ab70,3\n S 1fff000758,8\n L ffffffffffffffff,16\n M 0,1\n==1== bye\n',
    );
    expect(recs).toEqual([
      [0x0401ab70, 0, 'I', 3],
      [0xff000758, 0x1f, 'S', 8],
      [0xffffffff, 0xffffffff, 'L', 16],
      [0, 0, 'M', 1],
    ]);
    expect(skipped).toEqual([
      [1, false],
      [6, false],
    ]);
  });

  it('skips the system-call lines of --trace-syscalls=yes (SYSCALL[ and --> continuations), not look-alikes', () => {
    const text =
      ' --> [pre-success] Success(0x0) \nI  08049570,2\n' +
      'SYSCALL[7,1](120) sys_clone ( 1200011, 0x0, 0x0, 0x0, 0x81023e8 )   clone(fork): process 7 created child 8\n' +
      ' --> [pre-success] Success(0x8) \n L bec448f0,4\n';
    const { recs, skipped } = parse(text, [3, 5]);
    expect(recs).toEqual([
      [0x08049570, 0, 'I', 2],
      [0xbec448f0, 0, 'L', 4],
    ]);
    expect(skipped).toEqual([
      [1, false],
      [3, false],
      [4, false],
    ]);
    expect(errorOf('SYSCAL[7,1](20) sys_getpid ( )\n').message).toMatch(/line 1: expected 'I {2}'.*column 1/);
    expect(errorOf(' -> x\n').message).toMatch(/line 1: expected/);
  });

  it('accepts upper-case hex and a last line without a newline', () => {
    expect(parse('I  ABCdef,2').recs).toEqual([[0xabcdef, 0, 'I', 2]]);
  });

  it('accepts CR LF line ends, whatever the chunk boundaries; a CR elsewhere is still an error', () => {
    const text = '==1== hi\r\nI  1000,4\r\n L 2000,8\r\n S 3000,1\r\n';
    for (const chunks of [[1 << 20], [1], [3, 7], [11]]) {
      expect(parse(text, chunks).recs).toEqual([
        [0x1000, 0, 'I', 4],
        [0x2000, 0, 'L', 8],
        [0x3000, 0, 'S', 1],
      ]);
    }
    expect(errorOf('I  1000\r,4\n').message).toContain("line 1: expected ',' after the address");
  });

  it.each([
    ['bad hex', 'I  0401ab70,3\n L 12g4,4\n', 2, "',' after the address"],
    ['no address', 'I  ,3\n', 1, 'a hex address'],
    ['missing comma', 'I  0401ab70,3\nI  0401ab73,5\n S 1fff0007588\n', 3, "',' after the address"],
    ['missing size', ' L 1234,\n', 1, 'a decimal size'],
    ['17 hex digits', ' L 12345678123456781,4\n', 1, 'at most 16 hex digits'],
    ['one space after I', 'I 0401ab70,3\n', 1, "'I  ', ' L '"],
    ['unknown kind', ' X 1234,4\n', 1, "'I  ', ' L '"],
    ['trailing junk', ' L 1234,4 \n', 1, 'the end of the line'],
    ['empty line', 'I  1,1\n\nI  2,1\n', 2, "'I  ', ' L '"],
    ['a single =', '=1== x\n', 1, "'I  ', ' L '"],
  ])('rejects %s, naming the line', (_name, text, line, expected) => {
    const e = errorOf(text);
    expect(e.offset).toBe(line);
    expect(e.unit).toBe('line');
    expect(e.message).toContain(`line ${line}`);
    expect(e.message).toContain(expected);
  });

  it('counts malformed lines when lenient', () => {
    const { recs, skipped } = parse('I  1,1\nbad\n L 2,4\n L zz,4\n', [1 << 20], true);
    expect(recs.map((r) => r[0])).toEqual([1, 2]);
    expect(skipped).toEqual([
      [2, true],
      [4, true],
    ]);
  });

  it('keeps only a bounded prefix of a very long line and still names it', () => {
    const e = errorOf(`I  1,1\n${'x'.repeat(100_000)}\n`);
    expect(e.offset).toBe(2);
    const { skipped } = parse(`==1== ${'y'.repeat(100_000)}\nI  5,1\n`, [777]);
    expect(skipped).toEqual([[1, false]]);
  });

  const lineArb = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('I  ', ' L ', ' S ', ' M '),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 0, max: 4096 }),
      )
      .map(([k, a, s]) => `${k}${a.toString(16)},${s}`),
    fc.string().map((s) => `==9== ${s.replace(/\n/g, ' ')}`),
  );

  it('gives the same records whatever the chunk boundaries (property)', () => {
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        (lines, chunks) => {
          const text = lines.map((l) => l + '\n').join('');
          expect(parse(text, chunks)).toEqual(parse(text));
        },
      ),
    );
  });

  it('throws nothing but ParseError on random bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 64 }), (bytes, chunk) => {
        const p = new LackeyParser(new Collect());
        try {
          for (let i = 0; i < bytes.length; i += chunk) p.push(bytes.subarray(i, i + chunk));
          p.end();
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips generated lines exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('I', 'L', 'S', 'M'),
            fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
            fc.integer({ min: 0, max: 999 }),
          ),
        ),
        (recs) => {
          const text = recs
            .map(([k, a, s]) => `${k === 'I' ? 'I  ' : ` ${k} `}${a.toString(16).padStart(8, '0')},${s}\n`)
            .join('');
          expect(parse(text, [13]).recs).toEqual(
            recs.map(([k, a, s]) => [Number(a & 0xffffffffn), Number(a >> 32n), k, s]),
          );
        },
      ),
    );
  });
});
