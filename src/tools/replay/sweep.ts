// `--sweep`: one replay per TLB configuration, spread over worker threads
// (one per core) that share the decoded trace through SharedArrayBuffers.

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PagelabError } from '../../errors.js';
import { formatTlb, parseTlb, type TlbGeometry } from '../../hw/tlb.js';
import { replay, type ReplayResult } from './replay.js';
import type { Trace } from './trace.js';

/** What a worker is given: the trace's shared buffers and one configuration at a time. */
export interface SweepJob {
  readonly tlb: string;
  readonly ram: number;
  readonly repeat: number;
}

/**
 * parseSweep reads a list such as `fa:8,16,32` or `dm:16,32,fa:64,sa:16x2,16x4`:
 * a `KIND:` prefix sets the kind for the bare sizes after it.
 */
export function parseSweep(spec: string): TlbGeometry[] {
  const out: TlbGeometry[] = [];
  let kind = '';
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '')
      throw new PagelabError(
        `--sweep ${JSON.stringify(spec)}: an empty item (expected e.g. fa:8,16,32 or dm:64,sa:16x4)`,
      );
    if (/^(dm|fa|sa):$/.test(item))
      throw new PagelabError(`--sweep ${spec}: '${item}' needs a size after the colon (e.g. ${item}64)`);
    const m = /^(dm|fa|sa):(.+)$/.exec(item);
    if (m !== null) kind = m[1]!;
    if (item === 'none') out.push(parseTlb('none'));
    else if (m !== null) out.push(parseTlb(item));
    else if (kind !== '') out.push(parseTlb(`${kind}:${item}`));
    else throw new PagelabError(`--sweep ${spec}: '${item}' needs a kind first (dm:, fa: or sa:)`);
  }
  if (out.length === 0) throw new PagelabError(`--sweep ${spec}: no configuration`);
  return out;
}

/** entriesOf is the number of entries of a TLB geometry (0 for none). */
export function entriesOf(g: TlbGeometry): number {
  if (g.kind === 'none') return 0;
  return g.kind === 'set' ? g.sets * g.ways : g.entries;
}

/** sharedTrace copies a trace's arrays into SharedArrayBuffers (once, for every worker). */
export function sharedTrace(t: Trace): Trace {
  const addr = new Uint32Array(new SharedArrayBuffer(t.length * 4));
  addr.set(t.addr);
  const kind = new Uint8Array(new SharedArrayBuffer(Math.max(t.length, 1)));
  kind.set(t.kind);
  return { ...t, addr, kind: kind.subarray(0, t.length) };
}

/** sweep replays the trace once per configuration on up to `threads` workers; results keep the input order. */
export async function sweep(
  trace: Trace,
  configs: readonly TlbGeometry[],
  ram: number,
  repeat: number,
  threads = Math.min(2, availableParallelism()),
): Promise<ReplayResult[]> {
  const n = Math.max(1, Math.min(threads, configs.length));
  if (n === 1) return configs.map((tlb) => replay(trace, { tlb, ram, repeat }));
  const shared = sharedTrace(trace);
  const results: ReplayResult[] = new Array<ReplayResult>(configs.length);
  let next = 0;
  const runWorker = async (): Promise<void> => {
    const w = spawnWorker(shared);
    try {
      for (let i = next++; i < configs.length; i = next++) {
        results[i] = await ask(w, { tlb: formatTlb(configs[i]), ram, repeat });
      }
    } finally {
      await w.terminate();
    }
  };
  await Promise.all(Array.from({ length: n }, runWorker));
  return results;
}

/**
 * spawnWorker starts a sweep worker on the shared trace. From source (.ts,
 * under tsx or vitest) the worker first registers tsx's loader, which Node 20
 * does not carry into workers by itself.
 */
function spawnWorker(t: Trace): Worker {
  const workerData = { addr: t.addr, kind: t.kind, length: t.length, counts: t.counts };
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./sweep-worker.js', import.meta.url), { workerData });
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./sweep-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/** ask sends one job to a worker and waits for its result. */
function ask(w: Worker, job: SweepJob): Promise<ReplayResult> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { result?: ReplayResult; error?: string }): void => {
      w.off('error', onError);
      if (m.result !== undefined) resolve(m.result);
      else reject(new PagelabError(m.error ?? 'sweep worker failed'));
    };
    const onError = (e: Error): void => {
      w.off('message', onMessage);
      reject(e);
    };
    w.once('message', onMessage);
    w.once('error', onError);
    w.postMessage(job);
  });
}
