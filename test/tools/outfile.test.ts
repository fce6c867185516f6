// Output paths are checked before the work starts; I/O errors become PagelabError.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PagelabError } from '../../src/errors.js';
import { runBoot } from '../../src/tools/commands/boot.js';
import { runInspect } from '../../src/tools/commands/inspect.js';
import { checkOutputPath, writeOutput } from '../../src/tools/outfile.js';

const dir = mkdtempSync(join(tmpdir(), 'pagelab-outfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('output files', () => {
  it('a path in a missing directory, or a directory, is refused with the option named', () => {
    expect(() => checkOutputPath(join(dir, 'nope', 'x.bin'), '--dump')).toThrow(
      new PagelabError(`--dump ${join(dir, 'nope', 'x.bin')}: the directory ${join(dir, 'nope')} does not exist`),
    );
    expect(() => checkOutputPath(dir, '--plot')).toThrow(new PagelabError(`--plot ${dir}: it is a directory`));
    expect(() => checkOutputPath(join(dir, 'fine.svg'), '--plot')).not.toThrow();
  });

  it('a write that fails is a PagelabError with the error code', () => {
    expect(() => writeOutput(dir, 'x', '--plot')).toThrow(new PagelabError(`--plot ${dir}: cannot write: EISDIR`));
  });

  it('boot --dump into a missing directory fails before booting, printing nothing', () => {
    const out: string[] = [];
    expect(() =>
      runBoot({ ram: '16M', module: [], dump: join(dir, 'nope', 'm.bin') }, (s) => out.push(s), false),
    ).toThrow(PagelabError);
    expect(out).toEqual([]);
  });

  it('inspect on a directory is a PagelabError', () => {
    expect(() => runInspect(dir, { cr3: '0' })).toThrow(
      new PagelabError(`cannot open memory image ${dir}: it is a directory`),
    );
  });
});
