// Malformed input: random images, registers text and options give our own
// error with a message, or a result; never a crash or a hang.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PagelabError, ParseError } from '../../../src/errors.js';
import { ACCESS_READ } from '../../../src/hw/fault.js';
import { WalkState, largeReservedMask, walk } from '../../../src/hw/walk.js';
import { parseRange, runInspect } from '../../../src/tools/commands/inspect.js';
import { BufferImage } from '../../../src/tools/inspect/image.js';
import { toJson } from '../../../src/tools/inspect/json.js';
import { formatFinding, lint } from '../../../src/tools/inspect/lint.js';
import { infoMem, infoTlb } from '../../../src/tools/inspect/qemu.js';
import { parseAddress, parseControl, parseQemuRegisters } from '../../../src/tools/inspect/regs.js';
import { parseSize } from '../../../src/tools/args.js';
import { scanDirectory } from '../../../src/tools/inspect/scan.js';
import { formatTree } from '../../../src/tools/inspect/tree.js';
import { formatWalk, walkJson } from '../../../src/tools/walkfmt.js';
import { capture } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'pagelab-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PAGES = 4;
/** An entry: random bits, or one pointing into the small image, or past it. */
const entry = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc
    .tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.integer({ min: 0, max: 0xfff }))
    .map(([p, f]) => (p * 4096) | f | 1),
  fc.integer({ min: 0, max: 0xfff }).map((f) => (0x10000000 | f | 1) >>> 0),
);
const image = fc
  .array(fc.tuple(fc.integer({ min: 0, max: PAGES * 1024 - 1 }), entry), { maxLength: 200 })
  .map((writes) => {
    const bytes = new Uint8Array(PAGES * 4096);
    const dv = new DataView(bytes.buffer);
    for (const [i, v] of writes) dv.setUint32(i * 4, v >>> 0, true);
    return bytes;
  });
const regs = fc.record({
  cr0: fc.oneof(fc.constant(0x80010011), fc.integer({ min: 0, max: 0xffffffff })),
  cr3: fc.oneof(
    fc.integer({ min: 0, max: PAGES - 1 }).map((p) => p * 4096),
    fc.integer({ min: 0, max: 0xffffffff }),
  ),
  cr4: fc.constantFrom(0, 0x10, 0x80, 0x90),
  eip: fc.integer({ min: 0, max: 0xffffffff }),
});

/** onlyOurs runs fn and accepts a result or a PagelabError with a message. */
function onlyOurs(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof PagelabError) || e.message === '') throw e;
  }
}

describe('fuzzing the inspector', () => {
  it('every view of a random image completes without throwing', () => {
    fc.assert(
      fc.property(image, regs, fc.integer({ min: 0, max: 0xffffffff }), (bytes, r, linear) => {
        const img = new BufferImage(bytes);
        infoMem(img, r);
        infoTlb(img, r);
        const view = scanDirectory(img, r);
        formatTree(view);
        JSON.stringify(toJson(view));
        lint(view, {
          ramSize: bytes.length,
          kernelBase: 0xc0000000,
          code: [{ start: 0xc0100000, end: 0xc01fffff }],
        }).map(formatFinding);
        const w = new WalkState();
        walk(
          img,
          {
            cr3: r.cr3,
            pse: (r.cr4 & 0x10) !== 0,
            wp: true,
            accessedOrder: 'qemu',
            rsvdErrorCode: 'sdm',
            largeReserved: largeReservedMask(40),
          },
          linear,
          ACCESS_READ,
          false,
          false,
          w,
        );
        formatWalk(w, linear);
        walkJson(w, linear);
      }),
      { numRuns: 60 },
    );
  });

  it('random files and cut gzip streams give our own error, or an image', () => {
    const gz = gzipSync(new Uint8Array(8192).fill(7));
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 9000 }),
      fc.integer({ min: 0, max: gz.length }).map((n) => gz.subarray(0, n)),
      fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([0x1f, 0x8b, ...b])),
    );
    let n = 0;
    fc.assert(
      fc.property(bytes, regs, (b, r) => {
        const path = join(dir, `f${n++}.bin`);
        writeFileSync(path, b);
        onlyOurs(() => runInspect(path, { cr3: String(r.cr3), cr4: String(r.cr4), format: 'info-mem' }));
        onlyOurs(() => runInspect(path, { cr3: String(r.cr3), lint: true }));
      }),
      { numRuns: 80 },
    );
  });

  it('registers text: a result or a ParseError naming the line', () => {
    const real = readFileSync(capture(1).registers, 'utf8');
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc
        .tuple(fc.integer({ min: 0, max: real.length }), fc.string({ maxLength: 20 }))
        .map(([at, s]) => real.slice(0, at) + s + real.slice(at + s.length)),
    );
    fc.assert(
      fc.property(text, (t) => {
        try {
          parseQemuRegisters(t);
        } catch (e) {
          if (!(e instanceof ParseError) && !(e instanceof PagelabError)) throw e;
          expect(e.message).toMatch(/line \d+|PAE/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('option values: a result or our own error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => {
        onlyOurs(() => parseControl(s, 'cr0'));
        onlyOurs(() => parseControl(s, 'cr4'));
        onlyOurs(() => parseSize(s, '--ram'));
        onlyOurs(() => parseAddress(s, '--cr3'));
        onlyOurs(() => parseRange(s));
      }),
      { numRuns: 500 },
    );
  });
});
