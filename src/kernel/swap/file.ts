// The swap device: a real file, slot s at bytes [s * PAGE_SIZE, (s + 1) * PAGE_SIZE), read and written with
// synchronous positioned I/O. It is the disk, not kernel memory: what the kernel knows of slots (which are in
// use, their checksums) belongs in kernel RAM, not here.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PagelabError } from '../../errors.js';
import { PAGE_SIZE } from '../../hw/addr.js';

/** A swap-device failure: a short read or write, a full disk, a slot past the end. */
export class SwapIoError extends PagelabError {}

/** The two calls the device makes; a test passes a wrapper that fails on purpose. */
export interface SwapIo {
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
}

/** A swap file of `slots` pages; `file` null makes a temporary one that close() removes. */
export class SwapFile {
  readonly path: string;
  private readonly fd: number;
  private readonly temp: boolean;

  constructor(
    file: string | null,
    readonly slots: number,
    private readonly io: SwapIo = fs,
  ) {
    this.temp = file === null;
    this.path = file ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pagelab-swap-')), 'swap');
    try {
      this.fd = fs.openSync(this.path, 'w+');
    } catch (e) {
      throw new SwapIoError(`swap file ${this.path}: cannot open (${(e as Error).message})`);
    }
  }

  /** writeSlot writes one page (PAGE_SIZE bytes) to slot s, all of it or a SwapIoError. */
  writeSlot(s: number, page: Uint8Array): void {
    this.check(s, page);
    let n: number;
    try {
      n = this.io.writeSync(this.fd, page, 0, PAGE_SIZE, s * PAGE_SIZE);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new SwapIoError(`swap file ${this.path}: writing slot ${s} failed: ${code}`);
    }
    if (n !== PAGE_SIZE) throw new SwapIoError(`swap file ${this.path}: short write of slot ${s} (${n} bytes)`);
  }

  /** readSlot reads slot s into page, all PAGE_SIZE bytes or a SwapIoError naming the slot. */
  readSlot(s: number, page: Uint8Array): void {
    this.check(s, page);
    let n: number;
    try {
      n = this.io.readSync(this.fd, page, 0, PAGE_SIZE, s * PAGE_SIZE);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new SwapIoError(`swap file ${this.path}: reading slot ${s} failed: ${code}`);
    }
    if (n !== PAGE_SIZE) {
      throw new SwapIoError(`swap file ${this.path}: short read of slot ${s} (${n} of ${PAGE_SIZE} bytes)`);
    }
  }

  /** close closes the file and removes it when it was a temporary one. */
  close(): void {
    fs.closeSync(this.fd);
    if (this.temp) fs.rmSync(path.dirname(this.path), { recursive: true, force: true });
  }

  /** check rejects a slot out of range or a buffer that is not one page. */
  private check(s: number, page: Uint8Array): void {
    if (!Number.isInteger(s) || s < 0 || s >= this.slots) {
      throw new SwapIoError(`swap slot ${s} out of range (0..${this.slots - 1})`);
    }
    if (page.length !== PAGE_SIZE) throw new SwapIoError(`swap page buffer of ${page.length} bytes`);
  }
}
