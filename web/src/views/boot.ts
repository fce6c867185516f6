// Boot, step by step: the bootstrap's steps and the memory manager's bring-up,
// each with the boot log's lines, the control registers before and after, and
// what it changed in memory (entries written, bulk copies, INVLPGs).

import { h, hex8 } from '../dom.js';
import { stepChanges, type WriteRun } from '../changes.js';
import type { Session, StepView } from '../session.js';

/** where names the reserved range an address lies in, if any. */
function where(s: Session, addr: number): string {
  const info = s.result.info;
  const dir = info.bootDirectory;
  if (addr >= dir && addr < dir + 4096) return `boot page directory, PDE ${(addr - dir) / 4}`;
  const pt = info.bootPageTable;
  if (pt !== null && addr >= pt && addr < pt + 4096) return `boot page table, PTE ${(addr - pt) / 4}`;
  const r = info.reserved.find((x) => addr >= x.base && addr < x.base + x.length);
  return r === undefined ? '' : r.what;
}

/** runRows shows a run of writes: all of a short one, the ends of a long one. */
function runRows(s: Session, run: WriteRun): HTMLElement[] {
  const e = run.entries;
  const shown = e.length <= 8 ? e : [...e.slice(0, 4), null, ...e.slice(-2)];
  return shown.map((c) =>
    c === null
      ? h('tr', { class: 'more' }, h('td', { colspan: 4 }, `… ${e.length - 6} more entries`))
      : h(
          'tr',
          {},
          h('td', {}, h('code', {}, hex8(c.addr))),
          h('td', {}, h('code', {}, hex8(c.old))),
          h('td', {}, h('code', { class: 'changed' }, hex8(c.value))),
          h('td', {}, where(s, c.addr)),
        ),
  );
}

/** regsTable shows CR0/CR3/CR4 before and after, changed ones marked. */
function regsTable(st: StepView): HTMLElement {
  const row = (name: 'cr0' | 'cr3' | 'cr4'): HTMLElement => {
    const changed = st.before[name] !== st.after[name];
    return h(
      'tr',
      { class: changed ? 'changed' : '', 'data-reg': name },
      h('td', {}, name.toUpperCase()),
      h('td', {}, h('code', {}, hex8(st.before[name]))),
      h('td', {}, h('code', {}, hex8(st.after[name]))),
    );
  };
  return h(
    'table',
    { class: 'regs' },
    h('tr', {}, h('th', {}, 'register'), h('th', {}, 'before'), h('th', {}, 'after')),
    row('cr0'),
    row('cr3'),
    row('cr4'),
  );
}

/** stepDetail shows one step's log, registers and memory changes. */
function stepDetail(s: Session, st: StepView, index: number): HTMLElement {
  const ch = stepChanges(st.events);
  const words = ch.runs.reduce((n, r) => n + r.entries.length, 0);
  return h(
    'div',
    { class: 'step-detail', id: 'boot-detail', 'data-step': index },
    h('h3', { id: 'boot-step-name' }, `${index + 1}. ${st.name}`),
    h('pre', { class: 'log' }, st.lines.join('\n')),
    h('h4', {}, 'registers'),
    regsTable(st),
    ch.ops.length > 0
      ? h(
          'div',
          {},
          h('h4', {}, 'CPU and TLB operations'),
          h('ul', { class: 'ops' }, ...ch.ops.map((o) => h('li', {}, h('code', {}, o)))),
        )
      : null,
    h(
      'h4',
      {},
      `memory: ${words} values changed, ${ch.bulks.length} bulk copies or fills, ${ch.frames} frames touched`,
    ),
    ch.bulks.length > 0
      ? h(
          'ul',
          { class: 'bulks' },
          ...ch.bulks
            .slice(0, 12)
            .map((b) =>
              h(
                'li',
                {},
                `${b.fill === null ? 'copied' : `filled with ${b.fill}`}: ${hex8(b.addr)}–${hex8(b.addr + b.length - 1)} (${b.length} bytes) ${where(s, b.addr)}`,
              ),
            ),
        )
      : null,
    words > 0
      ? h(
          'table',
          { class: 'writes' },
          h('tr', {}, h('th', {}, 'address'), h('th', {}, 'was'), h('th', {}, 'now'), h('th', {}, 'what')),
          ...ch.runs.slice(0, 24).flatMap((r) => runRows(s, r)),
        )
      : h('p', {}, 'No memory value changed in this step.'),
  );
}

/** bootView lists the steps, shows the current one and the stepping controls. */
export function bootView(s: Session, step: number, go: (step: number) => void): HTMLElement {
  const last = s.steps.length - 1;
  const cur = Math.max(0, Math.min(step, last));
  const list = h(
    'ol',
    { class: 'steps', id: 'boot-steps' },
    ...s.steps.map((st, i) =>
      h(
        'li',
        { class: i === cur ? 'current' : i < cur ? 'done' : '', 'data-index': i },
        h(
          'a',
          {
            href: '#',
            onclick: (ev: Event) => {
              ev.preventDefault();
              go(i);
            },
          },
          st.name,
        ),
      ),
    ),
  );
  const controls = h(
    'div',
    { class: 'controls' },
    h('button', { id: 'boot-first', onclick: () => go(0), disabled: cur === 0 }, '⏮ first'),
    h('button', { id: 'boot-prev', onclick: () => go(cur - 1), disabled: cur === 0 }, '◀ previous'),
    h('button', { id: 'boot-next', onclick: () => go(cur + 1), disabled: cur === last }, 'next ▶'),
    h('button', { id: 'boot-play', onclick: () => play(cur, last, go), disabled: cur === last }, 'play'),
    h('button', { id: 'boot-end', onclick: () => go(last), disabled: cur === last }, 'end ⏭'),
    h('span', { class: 'hint' }, ' keys: ← →'),
  );
  return h(
    'section',
    { class: 'view', id: 'view-boot' },
    h('h2', {}, 'Boot, step by step'),
    controls,
    h('div', { class: 'boot-grid' }, list, stepDetail(s, s.steps[cur], cur)),
  );
}

/** play advances one step every 700 ms to the end. */
function play(from: number, last: number, go: (step: number) => void): void {
  let i = from;
  const tick = (): void => {
    if (i >= last) return;
    go(++i);
    setTimeout(tick, 700);
  };
  tick();
}
