// A sweep worker: replays the shared trace for each configuration it is sent.

import { parentPort, workerData } from 'node:worker_threads';
import { PagelabError } from '../../errors.js';
import { replay } from './replay.js';
import type { KindCounts, Trace } from './trace.js';
import type { SweepJob } from './sweep.js';

interface SharedData {
  addr: Uint32Array;
  kind: Uint8Array;
  length: number;
  counts: KindCounts;
}

const data = workerData as SharedData;
const trace: Trace = { ...data, commentLines: 0, badLines: 0, firstBadLine: 0 };

parentPort!.on('message', (job: SweepJob) => {
  try {
    parentPort!.postMessage({ result: replay(trace, { tlb: job.tlb, ram: job.ram, repeat: job.repeat }) });
  } catch (e) {
    if (!(e instanceof PagelabError)) throw e;
    parentPort!.postMessage({ error: e.message });
  }
});
