// JSON a piece at a time: the same bytes as JSON.stringify(value, null, 2), for inspect's document and any value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonPieces, toJson } from '../../../src/tools/inspect/json.js';
import { scanDirectory } from '../../../src/tools/inspect/scan.js';
import { openImage } from '../../../src/tools/inspect/image.js';
import { registersFrom } from '../../../src/tools/commands/inspect.js';
import { jsonDocument, stringifyPieces } from '../../../src/tools/io/json.js';
import { capture, LAYOUTS } from '../inspect/fixtures.js';
import { tablesDump, tempDir } from './cli.js';

/** viewOf scans a dump as inspect does. */
function viewOf(dump: string, opts: Parameters<typeof registersFrom>[0]): ReturnType<typeof scanDirectory> {
  const img = openImage(dump);
  try {
    return scanDirectory(img, registersFrom(opts));
  } finally {
    if ('close' in img) img.close();
  }
}

describe('inspect JSON in pieces', () => {
  it('joins to the one-string document for the QEMU layouts, no tables, tables past the end', () => {
    const dir = tempDir();
    const views = [
      ...LAYOUTS.map((n) => viewOf(capture(n).dump, { regs: capture(n).registers })),
      viewOf(tablesDump(dir, 0, 0, 64 << 10), { cr3: '0' }),
      viewOf(tablesDump(dir, 3, 2, 64 << 10), { cr3: '0' }),
      viewOf(tablesDump(dir, 2), { cr3: '0x100000' }),
    ];
    expect(views.map((v) => v.pdes.length).some((n) => n === 0)).toBe(true);
    for (const view of views) expect([...jsonPieces(view)].join('')).toBe(JSON.stringify(toJson(view), null, 2) + '\n');
  });
});

describe('stringifyPieces', () => {
  it('property: any JSON value at any depth joins to JSON.stringify(value, null, 2)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(4), (value, depth) => {
        expect([...stringifyPieces(value, depth)].join('')).toBe(JSON.stringify(value, null, 2));
        expect([...jsonDocument(value, depth)].join('')).toBe(JSON.stringify(value, null, 2) + '\n');
      }),
      { numRuns: 300 },
    );
  });

  it('leaves out undefined properties and writes undefined array items as null, as JSON.stringify does', () => {
    const value = { a: undefined, b: [undefined, 1, { c: undefined }], d: {} };
    expect([...stringifyPieces(value, 3)].join('')).toBe(JSON.stringify(value, null, 2));
  });
});
