// Your own data: drop (or choose) a raw physical-memory image — QEMU's pmemsave
// or `pagelab boot --dump`, plain or gzip — and its registers — QEMU's `info
// registers` text or `pagelab boot --json` — and the walk and table views
// browse it as `pagelab inspect` does. The files are read in the page: nothing
// leaves the browser.

import { PagelabError } from '../../../src/errors.js';
import { BufferImage } from '../../../src/tools/inspect/image.js';
import { parseRegistersFile } from '../../../src/tools/inspect/regs.js';
import { h } from '../dom.js';
import { dumpTarget, type Target } from '../target.js';

/** The largest image read (the machine's 4 GiB physical space). */
const MAX_IMAGE = 2 ** 32;

/** isGzip tells whether bytes start with the gzip magic. */
function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** gunzip inflates a gzip stream with the browser's DecompressionStream. */
async function gunzip(b: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([b as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** looksLikeRegisters tells a registers file (text or JSON) from an image by its first bytes. */
function looksLikeRegisters(b: Uint8Array, name: string): boolean {
  if (isGzip(b)) return false;
  const head = new TextDecoder().decode(b.subarray(0, 4096));
  return /\.(txt|json)$/i.test(name) || head.trimStart().startsWith('{') || /CR0=[0-9a-f]{8}/i.test(head);
}

/** loadDump reads the chosen files into a target, or throws a PagelabError saying what is missing or wrong. */
export async function loadDump(files: readonly File[]): Promise<Target> {
  let image: { name: string; bytes: Uint8Array } | null = null;
  let regs: { name: string; text: string } | null = null;
  for (const f of files) {
    if (f.size > MAX_IMAGE) throw new PagelabError(`${f.name}: ${f.size} bytes is more than 4 GiB of physical memory`);
    const bytes = new Uint8Array(await f.arrayBuffer());
    if (looksLikeRegisters(bytes, f.name)) regs = { name: f.name, text: new TextDecoder().decode(bytes) };
    else image = { name: f.name, bytes: isGzip(bytes) ? await gunzip(bytes) : bytes };
  }
  if (image === null) throw new PagelabError('no memory image among the files: drop the pmemsave or --dump file too');
  if (regs === null)
    throw new PagelabError('no registers among the files: drop `info registers` text or boot --json too');
  if (image.bytes.length === 0 || image.bytes.length % 4096 !== 0) {
    throw new PagelabError(
      `${image.name}: a truncated image (found ${image.bytes.length} bytes, expected a whole number of 4 KiB pages)`,
    );
  }
  const r = parseRegistersFile(regs.text, regs.name);
  const mib = image.bytes.length / 2 ** 20;
  return dumpTarget(`${image.name} (${mib} MiB) with ${regs.name}`, new BufferImage(image.bytes), r);
}

/** dumpView is the drop zone and file chooser; a loaded dump becomes the walk and table views' target. */
export function dumpView(current: Target, use: (t: Target) => void): HTMLElement {
  const status = h(
    'p',
    { id: 'dump-status', role: 'status' },
    current.kind === 'dump' ? `showing ${current.label}` : 'no dump loaded',
  );
  const take = (files: readonly File[]): void => {
    status.textContent = 'reading…';
    loadDump(files).then(use, (e: unknown) => {
      status.textContent = e instanceof PagelabError ? e.message : `could not read the files: ${String(e)}`;
      status.className = 'error';
    });
  };
  const input = h('input', {
    type: 'file',
    id: 'dump-files',
    multiple: true,
    'aria-label': 'memory image and registers',
  });
  input.addEventListener('change', () => take([...(input.files ?? [])]));
  const zone = h(
    'div',
    { class: 'dropzone', id: 'dropzone', tabindex: 0 },
    'Drop a memory image and its registers here, or ',
    input,
  );
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    take([...(ev.dataTransfer?.files ?? [])]);
  });
  return h(
    'section',
    { class: 'view', id: 'view-dump' },
    h('h2', {}, 'Your own dump'),
    h(
      'p',
      {},
      'A raw image of physical memory from address 0 (QEMU ',
      h('code', {}, 'pmemsave 0 SIZE file'),
      ' or ',
      h('code', {}, 'pagelab boot --dump FILE'),
      ', plain or gzip) and its control registers (QEMU ',
      h('code', {}, 'info registers'),
      ' text, or ',
      h('code', {}, 'pagelab boot --json'),
      '). The files are read in this page; nothing is sent anywhere.',
    ),
    zone,
    status,
  );
}
