// A real program's trace: valgrind's lackey on /bin/true, replayed and
// checked against the naive reference (skipped, saying why, without valgrind).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replay } from '../../../src/tools/replay/replay.js';
import { readTrace } from '../../../src/tools/replay/source.js';
import { countersOf, naiveReplay } from './naive.js';

const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;
if (!hasValgrind) console.log('valgrind.test.ts: skipped: valgrind is not installed (Debian package valgrind)');

describe('a lackey trace of /bin/true', () => {
  it.skipIf(!hasValgrind)('replays like the naive reference under several TLBs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-lackey-'));
    try {
      const log = join(dir, 'true.lackey');
      const v = spawnSync('valgrind', ['--tool=lackey', '--trace-mem=yes', `--log-file=${log}`, '/bin/true']);
      expect(v.status).toBe(0);
      const lines = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('=='));
      const records = lines.map((l) => {
        const [a, size] = l.slice(3).split(',');
        expect(Number(size)).toBeGreaterThan(0);
        return [Number(BigInt(`0x${a}`) & 0xffffffffn), l.trim()[0]] as [number, string];
      });
      const trace = await readTrace(log);
      expect(trace.length).toBe(records.length);
      expect(trace.length).toBeGreaterThan(10_000);
      for (const tlb of ['fa:64', 'dm:64', 'sa:16x4']) {
        const r = replay(trace, { tlb });
        expect(countersOf(r)).toEqual(naiveReplay(records, tlb));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
