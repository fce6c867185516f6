import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../../src/hw/addr.js';
import { SwapFile, SwapIoError, type SwapIo } from '../../../src/kernel/swap/file.js';

/** page is a page of bytes from a seed. */
function page(seed: number): Uint8Array {
  return Uint8Array.from({ length: PAGE_SIZE }, (_, i) => (i * 31 + seed) & 0xff);
}

describe('swap file', () => {
  it('keeps slot s at bytes [s*4096, (s+1)*4096) of a real file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swt-'));
    const f = new SwapFile(path.join(dir, 'sw'), 4);
    f.writeSlot(2, page(7));
    f.writeSlot(0, page(1));
    const back = new Uint8Array(PAGE_SIZE);
    f.readSlot(2, back);
    expect(back).toEqual(page(7));
    f.close();
    const bytes = fs.readFileSync(path.join(dir, 'sw'));
    expect(bytes.length).toBe(3 * PAGE_SIZE);
    expect(new Uint8Array(bytes.subarray(2 * PAGE_SIZE, 3 * PAGE_SIZE))).toEqual(page(7));
    expect(new Uint8Array(bytes.subarray(0, PAGE_SIZE))).toEqual(page(1));
    fs.rmSync(dir, { recursive: true });
  });

  it('removes a temporary file at close', () => {
    const f = new SwapFile(null, 2);
    f.writeSlot(1, page(3));
    expect(fs.existsSync(f.path)).toBe(true);
    f.close();
    expect(fs.existsSync(f.path)).toBe(false);
  });

  it('reports a short read (a slot never written past the end)', () => {
    const f = new SwapFile(null, 4);
    f.writeSlot(0, page(1));
    expect(() => f.readSlot(3, new Uint8Array(PAGE_SIZE))).toThrow(/short read of slot 3 \(0 of 4096 bytes\)/);
    f.close();
  });

  it('reports a full disk (ENOSPC from writeSync) and a short write', () => {
    const enospc: SwapIo = {
      readSync: fs.readSync,
      writeSync: () => {
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    };
    const f = new SwapFile(null, 2, enospc);
    expect(() => f.writeSlot(1, page(2))).toThrow(/writing slot 1 failed: ENOSPC/);
    f.close();
    const short: SwapIo = { readSync: fs.readSync, writeSync: () => 100 };
    const g = new SwapFile(null, 2, short);
    expect(() => g.writeSlot(0, page(2))).toThrow(/short write of slot 0 \(100 bytes\)/);
    g.close();
  });

  it('rejects a slot out of range and a wrong-size buffer', () => {
    const f = new SwapFile(null, 2);
    expect(() => f.writeSlot(2, page(0))).toThrow(SwapIoError);
    expect(() => f.readSlot(0, new Uint8Array(10))).toThrow(/buffer of 10 bytes/);
    f.close();
  });
});
