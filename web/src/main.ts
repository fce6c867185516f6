// The page: boots the default kernel in the browser, then shows one view at a
// time (boot, walk, tables, frames, TLB, a dropped dump, processes), the
// state kept in the URL. Keys: 1-7 choose a view, arrows step the boot, t
// toggles the theme.

import './polyfill.js'; // first: before src/ loads
import kernelUrl from '../../kernel/pagelab-kernel.elf?url';
import { h } from './dom.js';
import { startSession, type Session } from './session.js';
import { DEFAULT_STATE, VIEWS, parseHash, toHash, type ViewState } from './state.js';
import { sessionTarget, type Target } from './target.js';
import { bootView } from './views/boot.js';
import { directoryView } from './views/directory.js';
import { walkView } from './views/walk.js';
import { extraView } from './views/extra.js';
import { hex8 } from './dom.js';
import './style.css';

interface App {
  session: Session | null;
  boot: Target | null;
  dump: Target | null;
  state: ViewState;
}

const app: App = { session: null, boot: null, dump: null, state: parseHash(location.hash) };

/** target is what the walk and table views show: a dropped dump once there is one, else the booted machine. */
function target(): Target | null {
  return app.dump ?? app.boot;
}

/** setState changes the view state, the URL and the page. */
export function setState(patch: Partial<ViewState>): void {
  app.state = { ...app.state, ...patch };
  const hash = toHash(app.state);
  if (location.hash !== hash) history.replaceState(null, '', hash);
  render();
}

/** setDump makes a dropped dump the target of the walk and table views (null: back to the booted machine). */
export function setDump(t: Target | null): void {
  app.dump = t;
  render();
}

/** nav is the view tabs, the target's name and the theme switch. */
function nav(): HTMLElement {
  const tabs = VIEWS.map((v) =>
    h(
      'a',
      {
        href: toHash({ ...app.state, view: v.name }),
        class: v.name === app.state.view ? 'tab current' : 'tab',
        'data-view': v.name,
        'aria-current': v.name === app.state.view ? 'page' : undefined,
        title: `key ${v.key}`,
        onclick: (ev: Event) => {
          ev.preventDefault();
          setState({ view: v.name });
        },
      },
      v.title,
    ),
  );
  const t = target();
  return h(
    'header',
    {},
    h('h1', {}, 'pagelab'),
    h('nav', {}, ...tabs),
    h('span', { class: 'target', id: 'target-label' }, t === null ? '' : `${t.label} · CR3=${hex8(t.regs.cr3)}`),
    app.dump === null
      ? null
      : h('button', { id: 'back-to-boot', onclick: () => setDump(null) }, 'back to the booted machine'),
    h('button', { id: 'theme', onclick: toggleTheme, title: 'key t' }, 'theme'),
  );
}

/** mainView renders the current view. */
function mainView(): HTMLElement {
  const s = app.state;
  const t = target();
  if (app.session === null || t === null) return h('p', { id: 'loading' }, 'booting the machine…');
  switch (s.view) {
    case 'boot':
      return bootView(app.session, s.step, (step) => setState({ step }));
    case 'walk': {
      const header =
        t.kind === 'boot'
          ? `address space 'kernel': page directory ${hex8(app.session.report.kernel.vm.kernel.directory)} (CR3=${hex8(t.regs.cr3)})`
          : null;
      return walkView(t, s, (q) => setState({ ...q }), header);
    }
    case 'dir':
      return directoryView(t, s.pde, (pde) => setState({ pde }));
    case 'frames':
    case 'tlb':
    case 'dump':
    case 'procs':
      return extraView(s.view, { session: app.session, target: t, state: s, setState, setDump, rerender: render });
  }
}

/** render redraws the page. */
function render(): void {
  const root = document.getElementById('app')!;
  root.replaceChildren(nav(), h('main', {}, mainView()));
}

/** toggleTheme switches light and dark, remembered for the next visit. */
function toggleTheme(): void {
  const dark = document.documentElement.dataset.theme !== 'dark';
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  localStorage.setItem('pagelab-theme', dark ? 'dark' : 'light');
}

/** onKey: 1-7 views, arrows step the boot, t the theme; not while typing. */
function onKey(ev: KeyboardEvent): void {
  const el = ev.target as HTMLElement | null;
  if (el !== null && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA')) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const v = VIEWS.find((x) => x.key === ev.key);
  if (v !== undefined) setState({ view: v.name });
  else if (ev.key === 't') toggleTheme();
  else if (app.state.view === 'boot' && app.session !== null && (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft')) {
    const step = app.state.step + (ev.key === 'ArrowRight' ? 1 : -1);
    setState({ step: Math.max(0, Math.min(step, app.session.steps.length - 1)) });
  }
}

/** start fetches the kernel image, boots it and shows the first view. */
async function start(): Promise<void> {
  const saved = localStorage.getItem('pagelab-theme');
  document.documentElement.dataset.theme =
    saved ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  render();
  const bytes = new Uint8Array(await (await fetch(kernelUrl)).arrayBuffer());
  app.session = startSession(bytes);
  app.boot = sessionTarget(app.session);
  if (location.hash === '') app.state = DEFAULT_STATE;
  document.addEventListener('keydown', onKey);
  window.addEventListener('hashchange', () => {
    app.state = parseHash(location.hash);
    render();
  });
  render();
  document.body.dataset.ready = '1';
}

start().catch((e: unknown) => {
  document
    .getElementById('app')!
    .replaceChildren(h('p', { class: 'error', id: 'fatal' }, `pagelab could not start: ${String(e)}`));
  throw e;
});
