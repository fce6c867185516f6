import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../../src/hw/addr.js';
import { kernelInit } from '../../../src/kernel/main.js';
import { fnv1a, SwapChecksums } from '../../../src/kernel/swap/checksum.js';
import { SwapFile } from '../../../src/kernel/swap/file.js';
import { fakeBoot } from '../fakeboot.js';

describe('swap checksums', () => {
  it('is FNV-1a 32', () => {
    expect(fnv1a(new Uint8Array(0))).toBe(0x811c9dc5);
    expect(fnv1a(new TextEncoder().encode('a'))).toBe(0xe40c292c);
    expect(fnv1a(new TextEncoder().encode('foobar'))).toBe(0xbf9cf968);
  });

  it('passes an intact slot and names a slot whose bytes changed in the file', () => {
    const info = fakeBoot({ ram: 16 << 20 });
    const k = kernelInit(info, { frames: 'bitmap', heap: 'kr' });
    const sums = SwapChecksums.create(info.machine, k.heap, 4);
    const f = new SwapFile(null, 4);
    const page = Uint8Array.from({ length: PAGE_SIZE }, (_, i) => i & 0xff);
    f.writeSlot(1, page);
    sums.record(1, page);
    expect(info.machine.read32(sums.base + 4)).toBe(fnv1a(page)); // in kernel RAM
    const back = new Uint8Array(PAGE_SIZE);
    f.readSlot(1, back);
    sums.verify(1, back);
    const fd = fs.openSync(f.path, 'r+');
    fs.writeSync(fd, Uint8Array.of(0x5a), 0, 1, PAGE_SIZE + 100); // one byte of slot 1, behind the kernel's back
    fs.closeSync(fd);
    f.readSlot(1, back);
    expect(() => sums.verify(1, back)).toThrow(/swap slot 1 changed on disk \(checksum 0x[0-9a-f]{8}, written/);
    f.close();
  });
});
