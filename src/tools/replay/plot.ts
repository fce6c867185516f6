// The sweep's plot: miss rate against TLB size (log2 axis), one line per TLB
// kind, as a small standalone SVG, or an HTML page holding it and the table.

import type { ReplayResult } from './replay.js';
import { entriesOf } from './sweep.js';
import { parseTlb } from '../../hw/tlb.js';

const W = 720;
const H = 440;
const M = { left: 70, right: 150, top: 40, bottom: 56 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

/** seriesOf groups results by kind: fa, dm, and sa by number of ways ("sa, 4 ways"). */
function seriesOf(results: readonly ReplayResult[]): Series[] {
  const byName = new Map<string, Series>();
  for (const r of results) {
    const g = parseTlb(r.tlb);
    if (g.kind === 'none') continue;
    const name =
      g.kind === 'full' ? 'fully associative' : g.kind === 'direct' ? 'direct-mapped' : `${g.ways}-way set-associative`;
    const s = byName.get(name) ?? { name, points: [] };
    s.points.push({ x: entriesOf(g), y: r.miss_rate * 100 });
    byName.set(name, s);
  }
  for (const s of byName.values()) s.points.sort((a, b) => a.x - b.x);
  return [...byName.values()];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** niceMax rounds a maximum up to 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 5, 10]) if (v <= f * p) return f * p;
  return 10 * p;
}

/** plotSvg draws miss rate (%) against entries for a sweep's results. */
export function plotSvg(results: readonly ReplayResult[], title: string): string {
  const series = seriesOf(results);
  const xs = series.flatMap((s) => s.points.map((p) => Math.log2(p.x)));
  const x0 = xs.length > 0 ? Math.floor(Math.min(...xs)) : 0;
  const x1 = Math.max(xs.length > 0 ? Math.ceil(Math.max(...xs)) : 1, x0 + 1);
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p.y)), 0));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (e: number): number => M.left + ((Math.log2(e) - x0) / (x1 - x0)) * pw;
  const py = (y: number): number => M.top + ph - (y / yMax) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left + pw / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    ...axes(x0, x1, yMax, px, py, pw, ph),
  ];
  series.forEach((s, i) => out.push(...line(s, COLORS[i % COLORS.length], px, py, i)));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** axes draws the frame, grid, ticks (powers of two across, five steps up) and labels. */
function axes(
  x0: number,
  x1: number,
  yMax: number,
  px: (e: number) => number,
  py: (y: number) => number,
  pw: number,
  ph: number,
): string[] {
  const out = [`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`];
  for (let k = x0; k <= x1; k++) {
    const x = px(2 ** k).toFixed(1);
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle">${2 ** k}</text>`);
  }
  for (let j = 0; j <= 5; j++) {
    const v = (yMax * j) / 5;
    const y = py(v).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#ddd"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${+v.toPrecision(3)}%</text>`,
    );
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">TLB entries (log2 scale)</text>`);
  out.push(
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">miss rate (misses / records)</text>`,
  );
  return out;
}

/** line draws one series with its points and a legend entry. */
function line(s: Series, color: string, px: (e: number) => number, py: (y: number) => number, i: number): string[] {
  const pts = s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
  const out = [`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`];
  for (const p of s.points) {
    out.push(
      `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"><title>${p.x} entries: ${p.y.toPrecision(4)}%</title></circle>`,
    );
  }
  const ly = M.top + 10 + i * 18;
  const lx = W - M.right + 12;
  out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
  out.push(`<text x="${lx + 24}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  return out;
}

/** plotHtml wraps the SVG and a table of the results in a page. */
export function plotHtml(results: readonly ReplayResult[], title: string): string {
  const rows = results.map(
    (r) =>
      `<tr><td>${esc(r.tlb)}</td><td>${r.hits}</td><td>${r.misses}</td>` +
      `<td>${(r.miss_rate * 100).toPrecision(4)}%</td><td>${r.walks}</td><td>${r.phys_hash}</td></tr>`,
  );
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}</style></head><body>
${plotSvg(results, title)}<table><tr><th>tlb</th><th>hits</th><th>misses</th><th>miss rate</th><th>walks</th><th>phys_hash</th></tr>
${rows.join('\n')}
</table></body></html>\n`;
}
