// The lazy image reader: block reads, reads past the end, gzip, size checks.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PagelabError, ParseError } from '../../../src/errors.js';
import { BufferImage, FileImage, openImage, type PhysReader } from '../../../src/tools/inspect/image.js';
import { runInspect } from '../../../src/tools/commands/inspect.js';

const dir = mkdtempSync(join(tmpdir(), 'pagelab-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** patterned bytes: each dword holds its own address */
function patterned(size: number): Uint8Array {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  for (let p = 0; p < size; p += 4) dv.setUint32(p, p ^ 0xa5a5a5a5, true);
  return b;
}

describe('memory images', () => {
  it('reads dwords from a raw file, across 64 KiB blocks, and 0 past the end', () => {
    const path = join(dir, 'raw.bin');
    writeFileSync(path, patterned(0x30000));
    const img = openImage(path);
    expect(img).toBeInstanceOf(FileImage);
    expect(img.read32(0x1000)).toBe((0x1000 ^ 0xa5a5a5a5) >>> 0);
    expect(img.read32(0x2fffc)).toBe((0x2fffc ^ 0xa5a5a5a5) >>> 0);
    const a = 0xfffe; // straddles blocks 0 and 1
    const lo = (0xfffc ^ 0xa5a5a5a5) >>> 16;
    const hi = (0x10000 ^ 0xa5a5a5a5) & 0xffff;
    expect(img.read32(a)).toBe(((hi << 16) | lo) >>> 0);
    expect(img.read32(0x30000)).toBe(0);
    expect(img.read32(0x7fffffff)).toBe(0);
    expect((img as FileImage).pastEndReads).toBe(2);
    (img as FileImage).close();
  });

  it('reads a 4 GiB image lazily: a few blocks, not the whole file', () => {
    const path = join(dir, 'big.bin');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 2 ** 32); // sparse: costs no disk
    const word = Buffer.alloc(4);
    word.writeUInt32LE(0xdeadbeef);
    writeSync(fd, word, 0, 4, 0xfffff000);
    closeSync(fd);
    const img = openImage(path) as FileImage;
    expect(img.size).toBe(2 ** 32);
    expect(img.read32(0xfffff000)).toBe(0xdeadbeef);
    for (let i = 0; i < 1000; i++) img.read32(0x1000 + i * 4);
    expect(img.blockReads).toBe(2);
    img.close();
  });

  it('inflates a gzip-compressed image', () => {
    const path = join(dir, 'img.bin.gz');
    writeFileSync(path, gzipSync(patterned(0x2000)));
    const img = openImage(path);
    expect(img).toBeInstanceOf(BufferImage);
    expect(img.size).toBe(0x2000);
    expect(img.read32(0x1ffc)).toBe((0x1ffc ^ 0xa5a5a5a5) >>> 0);
    expect(img.read32(0x1ffe)).toBe(img.read32(0x1ffc) >>> 16);
  });

  it('names the size found and expected for a truncated image', () => {
    const path = join(dir, 'short.bin');
    writeFileSync(path, new Uint8Array(0x1800));
    expect(() => openImage(path)).toThrow(
      /truncated memory image: found 6144 bytes, expected a whole number of 4 KiB pages \(8192\)/,
    );
    const full = join(dir, 'full.bin');
    writeFileSync(full, new Uint8Array(0x2000));
    expect(() => openImage(full, { expectedSize: 0x4000 })).toThrow(
      /truncated memory image: found 8192 bytes, expected 16384/,
    );
    expect(() => runInspect(full, { cr3: '0', size: '16K' })).toThrow(PagelabError);
    expect(() => openImage(full, { expectedSize: 0x1000 })).toThrow(
      /longer than --size says: found 8192 bytes, expected 4096/,
    );
    expect(() => openImage(full, { expectedSize: 0x2000 })).not.toThrow();
    const empty = join(dir, 'empty.bin');
    writeFileSync(empty, new Uint8Array(0));
    expect(() => openImage(empty)).toThrow(/empty memory image/);
  });

  it('refuses a corrupt or cut gzip stream with a ParseError', () => {
    const path = join(dir, 'cut.bin.gz');
    const gz = gzipSync(patterned(0x10000));
    writeFileSync(path, gz.subarray(0, gz.length >> 1));
    expect(() => openImage(path)).toThrow(ParseError);
  });

  it('says so when the file cannot be opened', () => {
    expect(() => openImage(join(dir, 'missing.bin'))).toThrow(/cannot open memory image .*ENOENT/);
  });

  it('is read-only', () => {
    const img: PhysReader = new BufferImage(new Uint8Array(4096));
    expect(() => img.write32(0, 1)).toThrow(PagelabError);
  });
});
