// The browser tests' harness: build the page with Vite into a temporary folder,
// serve it with `pagelab web`'s server, and drive Debian's chromium through
// playwright-core (never a downloaded browser). One browser for all tests.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { startWebServer } from '../../src/tools/commands/web.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function missingBrowser(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `${CHROMIUM} is missing (apt-get install chromium): the browser tests are skipped`;
}

export interface Harness {
  readonly url: string;
  readonly browser: Browser;
  close(): Promise<void>;
}

/** startHarness builds the page, serves it and launches the browser. */
export async function startHarness(): Promise<Harness> {
  const out = mkdtempSync(join(tmpdir(), 'pagelab-web-'));
  await build({ configFile: 'web/vite.config.ts', logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
  const { server, url } = await startWebServer(out, 0);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  return {
    url,
    browser,
    close: async () => {
      await browser.close();
      await closeServer(server);
      rmSync(out, { recursive: true, force: true });
    },
  };
}

/** closeServer stops the server and its keep-alive connections. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A page that records console errors and uncaught exceptions. */
export interface WatchedPage {
  readonly page: Page;
  readonly errors: string[];
}

/** openPage opens the page at a hash and waits until the machine has booted. */
export async function openPage(h: Harness, hash: string): Promise<WatchedPage> {
  const page = await h.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(h.url + hash);
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 30_000 });
  return { page, errors };
}

const run = promisify(execFile);

/** cli runs the pagelab command from the sources and returns its standard output. */
export async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/tools/bin.ts', ...args], {
    encoding: 'utf8',
  });
  return stdout;
}
