// The views past the boot, walk and tables, behind one entry so main.ts stays small.

import type { Session } from '../session.js';
import type { ViewName, ViewState } from '../state.js';
import type { Target } from '../target.js';
import { dumpView } from './dump.js';
import { tlbView } from './tlb.js';
import { framesView } from './frames.js';
import { procsView } from './procs.js';

export interface ExtraContext {
  readonly session: Session;
  readonly target: Target;
  readonly state: ViewState;
  readonly setState: (patch: Partial<ViewState>) => void;
  readonly setDump: (t: Target | null) => void;
  readonly rerender: () => void;
}

/** extraView renders the frames, TLB, dump and processes views. */
export function extraView(view: Exclude<ViewName, 'boot' | 'walk' | 'dir'>, ctx: ExtraContext): HTMLElement {
  switch (view) {
    case 'tlb':
      return tlbView(ctx.session, ctx.rerender);
    case 'dump':
      return dumpView(ctx.target, (t) => {
        ctx.setDump(t);
        ctx.setState({ view: 'dir', pde: null });
      });
    case 'frames':
      return framesView(ctx.session, ctx.state.frame, (frame) => ctx.setState({ frame }));
    case 'procs':
      return procsView(ctx.rerender);
  }
}
