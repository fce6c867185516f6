// A benchmark's result table: printed row by row as it is measured (aligned
// columns on stdout), and, when `npm run bench -- --markdown` runs the bench,
// also appended as one JSON line to the file PAGELAB_BENCH_OUT names, from
// which bench/index.ts writes BENCHMARKS.md.
import { appendFileSync } from 'node:fs';

/** One column: its heading and the width it is padded to on stdout (right-aligned unless `left`). */
export interface Column {
  readonly name: string;
  readonly width: number;
  readonly left?: boolean;
}

/** What a table carries into BENCHMARKS.md. */
export interface TableRecord {
  readonly title: string;
  readonly columns: readonly string[];
  /** Per column: true when its cells are text (left-aligned), false for figures. */
  readonly left: readonly boolean[];
  readonly rows: readonly (readonly string[])[];
  readonly notes: readonly string[];
}

/** A table being measured: `row` prints each row as it comes, `end` records the whole table. */
export class BenchTable {
  private readonly rows: string[][] = [];
  private readonly notes: string[] = [];

  constructor(
    readonly title: string,
    private readonly columns: readonly Column[],
  ) {
    console.log(title);
    console.log(this.format(columns.map((c) => c.name)));
  }

  /** format pads each cell to its column's width. */
  private format(cells: readonly string[]): string {
    return cells
      .map((s, i) => {
        const c = this.columns[i];
        return c.left === true ? s.padEnd(c.width) : s.padStart(c.width);
      })
      .join('  ');
  }

  /** row prints one row of already-formatted cells and keeps it. */
  row(cells: readonly string[]): void {
    if (cells.length !== this.columns.length)
      throw new Error(`${this.title}: ${cells.length} cells for ${this.columns.length} columns`);
    this.rows.push([...cells]);
    console.log(this.format(cells));
  }

  /** note prints a line under the table and keeps it for the markdown. */
  note(text: string): void {
    this.notes.push(text);
    console.log(text);
  }

  /** end appends the table to PAGELAB_BENCH_OUT when it is set. */
  end(): void {
    const out = process.env.PAGELAB_BENCH_OUT;
    if (out === undefined || out === '') return;
    const rec: TableRecord = {
      title: this.title,
      columns: this.columns.map((c) => c.name),
      left: this.columns.map((c) => c.left === true),
      rows: this.rows,
      notes: this.notes,
    };
    appendFileSync(out, JSON.stringify(rec) + '\n');
  }
}
