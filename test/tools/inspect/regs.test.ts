// Registers from QEMU's info registers, and the --cr0/--cr4/size options.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PagelabError, ParseError } from '../../../src/errors.js';
import { parseAddress, parseControl, parseQemuRegisters, parseRegistersFile } from '../../../src/tools/inspect/regs.js';
import { parseSize } from '../../../src/tools/args.js';
import { registersFrom } from '../../../src/tools/commands/inspect.js';
import { capture } from './fixtures.js';

describe('registers', () => {
  it('reads CR0, CR3, CR4 and EIP from a captured info registers', () => {
    const r = parseQemuRegisters(readFileSync(capture(2).registers, 'utf8'));
    expect(r).toEqual({ cr0: 0x80010011, cr3: 0x00180000, cr4: 0, eip: r.eip });
    expect(r.eip).toBeGreaterThanOrEqual(0xc0000000);
    const r1 = parseQemuRegisters(readFileSync(capture(1).registers, 'utf8'));
    expect(r1.cr4).toBe(0x90);
  });

  it('accepts qemu-system-x86_64 register widths', () => {
    const text =
      'RIP=0000000000100010 RFL=00000002\nCR0=80000011 CR2=0000000000000000 CR3=0000000000002000 CR4=00000010\n';
    expect(parseQemuRegisters(text)).toEqual({ cr0: 0x80000011, cr3: 0x2000, cr4: 0x10, eip: 0x100010 });
  });

  it('rejects text without control registers, naming the line', () => {
    expect(() => parseQemuRegisters('EAX=0\nnothing here\n', 'regs.txt')).toThrow(ParseError);
    expect(() => parseQemuRegisters('x', 'regs.txt')).toThrow(/regs.txt: at line 1: expected a line "CR0=/);
  });

  it('refuses PAE', () => {
    expect(() => parseQemuRegisters('CR0=80000011 CR2=00000000 CR3=00001000 CR4=00000020')).toThrow(/PAE/);
  });

  it('reads control registers as names or numbers', () => {
    expect(parseControl('wp', 'cr0')).toBe(0x80010001);
    expect(parseControl('pse,pge', 'cr4')).toBe(0x90);
    expect(parseControl('0x10', 'cr4')).toBe(0x10);
    expect(parseControl('none', 'cr4')).toBe(0);
    expect(() => parseControl('pse,nx', 'cr4')).toThrow(/unknown flag "nx"/);
  });

  it('reads sizes and addresses', () => {
    expect(parseSize('16M', '--ram')).toBe(16 << 20);
    expect(parseSize('4GiB', '--ram')).toBe(2 ** 32);
    expect(parseSize('0x1000', '--ram')).toBe(4096);
    expect(parseAddress('0xC03FF000', '--translate')).toBe(0xc03ff000);
    expect(() => parseAddress('0x100000000', '--translate')).toThrow(PagelabError);
    expect(() => parseSize('lots', '--ram')).toThrow(PagelabError);
  });

  it('--cr options override --regs; one of them is required', () => {
    const r = registersFrom({ regs: capture(1).registers, cr4: 'pse' });
    expect(r.cr3).toBe(0x180000);
    expect(r.cr4).toBe(0x10);
    expect(() => registersFrom({})).toThrow(/needs --cr3/);
    expect(registersFrom({ cr3: '0x1000' })).toEqual({ cr0: 0x80000001, cr3: 0x1000, cr4: 0 });
  });

  it('reads a JSON object with cr0/cr3/cr4 (pagelab boot --json)', () => {
    expect(parseRegistersFile('{"cr0": 2147549201, "cr3": 1056768, "cr4": 0, "ram": 1}', 'boot.json')).toEqual({
      cr0: 0x80010011,
      cr3: 0x102000,
      cr4: 0,
    });
    expect(() => parseRegistersFile('{"cr0": 1', 'boot.json')).toThrow(ParseError);
    expect(() => parseRegistersFile('{"cr0": 1, "cr3": "x", "cr4": 0}', 'boot.json')).toThrow(
      /a 32-bit number in "cr3"/,
    );
    expect(parseRegistersFile(readFileSync(capture(3).registers, 'utf8'), 'r').cr4).toBe(0x10);
  });
});
