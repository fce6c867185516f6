// Trace files: lackey text and binary, plain and gzip, and conversion between them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ParseError, PagelabError } from '../../../src/errors.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { convertTrace, formatOf, readTrace } from '../../../src/tools/replay/source.js';

const SMALL = new URL('../../fixtures/replay/small.lackey', import.meta.url).pathname;
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pagelab-replay-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trace files', () => {
  it('decode lackey text into typed arrays', async () => {
    const t = await readTrace(SMALL);
    expect(t.length).toBe(7);
    expect([...t.addr]).toEqual([0x1000, 0x1004, 0x1008, 0x400000, 0x2000, 0x1010, 0x400010]);
    expect([...t.kind]).toEqual([
      ACCESS_FETCH,
      ACCESS_READ,
      ACCESS_WRITE,
      ACCESS_READ,
      ACCESS_WRITE,
      ACCESS_FETCH,
      ACCESS_WRITE,
    ]);
    expect(t.counts).toEqual({ I: 2, L: 2, S: 2, M: 1 });
    expect(t.commentLines).toBe(4);
  });

  it('convert refuses to write over its input, and leaves the input intact', async () => {
    const bin = join(dir, 'self.bin');
    await convertTrace(SMALL, bin);
    const before = readFileSync(bin);
    await expect(convertTrace(bin, bin)).rejects.toThrow(/is the input file itself/);
    expect(readFileSync(bin)).toEqual(before);
  });

  it('a failed conversion leaves no output, not even a partial one, and an old output stays as it was', async () => {
    const bad = join(dir, 'bad.lackey');
    writeFileSync(bad, `${' L 1000,4\n'.repeat(300000)} L zz,4\n`); // a bad line after megabytes of good ones
    const out = join(dir, 'fail.bin');
    await expect(convertTrace(bad, out)).rejects.toThrow(ParseError);
    expect(existsSync(out)).toBe(false);
    writeFileSync(out, 'old');
    await expect(convertTrace(bad, out)).rejects.toThrow(ParseError);
    expect(readFileSync(out, 'latin1')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an output that cannot be written is a PagelabError naming it', async () => {
    for (const out of [join(dir, 'no-such-dir', 'o.bin'), join(dir, 'no-such-dir', 'o.bin.gz')]) {
      await expect(convertTrace(SMALL, out)).rejects.toThrow(new PagelabError(`cannot write ${out}: ENOENT`));
    }
    await expect(readTrace(dir)).rejects.toThrow(/is a directory/);
  });

  it('read gzip text, binary and gzip binary to the same trace', async () => {
    const gz = join(dir, 'small.lackey.gz');
    writeFileSync(gz, gzipSync(readFileSync(SMALL)));
    const bin = join(dir, 'small.bin');
    const bingz = join(dir, 'small.bin.gz');
    expect(await convertTrace(gz, bin)).toMatchObject({ records: 7, commentLines: 4, badLines: 0 });
    await convertTrace(SMALL, bingz);
    expect(readFileSync(bin).length).toBe(70);
    const want = await readTrace(SMALL);
    for (const f of [gz, bin, bingz]) {
      const t = await readTrace(f);
      expect([t.length, [...t.addr], [...t.kind], t.counts]).toEqual([
        want.length,
        [...want.addr],
        [...want.kind],
        want.counts,
      ]);
    }
  });

  it('choose the format by name', () => {
    expect(['a.bin', 'a.BIN.gz', 'a.trace', 'a.bin.txt', 'x.gz'].map(formatOf)).toEqual([
      'binary',
      'binary',
      'lackey',
      'lackey',
      'lackey',
    ]);
  });

  it('name the file and line of a malformed text line, also inside gzip', async () => {
    const f = join(dir, 'bad.lackey.gz');
    writeFileSync(f, gzipSync('I  1000,4\n L 2000;4\n'));
    await expect(readTrace(f)).rejects.toThrow(ParseError);
    await expect(readTrace(f)).rejects.toThrow(`${f} (lackey trace): at line 2: expected ',' after the address`);
    const t = await readTrace(f, { lenient: true });
    expect([t.length, t.badLines, t.firstBadLine]).toEqual([1, 1, 2]);
  });

  it('name the offset of a truncated binary record', async () => {
    const f = join(dir, 'cut.bin');
    writeFileSync(f, new Uint8Array(25).fill(0x49));
    await expect(readTrace(f)).rejects.toThrow(/cut\.bin \(binary trace\): at offset 0x14 \(20\).*length 25/);
  });

  it('report a missing file and corrupt gzip as PagelabError', async () => {
    await expect(readTrace(join(dir, 'nope.trace'))).rejects.toThrow(PagelabError);
    const f = join(dir, 'corrupt.gz');
    writeFileSync(f, Buffer.concat([gzipSync('I  1,1\n'.repeat(1000)).subarray(0, 30)]));
    await expect(readTrace(f)).rejects.toThrow(PagelabError);
  });
});
