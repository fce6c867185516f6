// A vitest reporter that ends the run with one plain line,
// "tests: N passed, N failed, N skipped", which CI tooling reads.
import type { Reporter } from 'vitest/reporters';

type TaskLike = { type: string; tasks?: TaskLike[]; mode?: string; result?: { state?: string } };

export default class SummaryReporter implements Reporter {
  /** onFinished counts every test by its final state and prints the line. */
  onFinished(files: TaskLike[] = []): void {
    const n = { passed: 0, failed: 0, skipped: 0 };
    const visit = (t: TaskLike): void => {
      if (t.tasks !== undefined) {
        if (t.tasks.length === 0 && t.result?.state === 'fail') n.failed++; // a file that failed to load
        return t.tasks.forEach(visit);
      }
      const state = t.result?.state;
      if (state === 'pass') n.passed++;
      else if (state === 'fail') n.failed++;
      else n.skipped++;
    };
    files.forEach(visit);
    process.stdout.write(`\ntests: ${n.passed} passed, ${n.failed} failed, ${n.skipped} skipped\n`);
  }
}
