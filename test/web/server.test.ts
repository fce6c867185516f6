// `pagelab web`'s static server: files under the root, index.html for a folder,
// nothing outside the root, the URL it prints, and the command's errors.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/tools/cli.js';
import { resolveFile, startWebServer } from '../../src/tools/commands/web.js';

const root = mkdtempSync(join(tmpdir(), 'pagelab-serve-'));
mkdirSync(join(root, 'assets'));
writeFileSync(join(root, 'index.html'), '<p>hello</p>');
writeFileSync(join(root, 'assets', 'a.js'), 'export {};');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('pagelab web: the static server', () => {
  it('maps request paths to files under the root only', () => {
    expect(resolveFile(root, '/')).toBe(join(root, 'index.html'));
    expect(resolveFile(root, '/assets/a.js?v=1')).toBe(join(root, 'assets', 'a.js'));
    expect(resolveFile(root, '/../../etc/passwd')).toBeNull();
    expect(resolveFile(root, '/%2e%2e/%2e%2e/etc/passwd')).toBeNull();
    expect(resolveFile(root, '/missing.js')).toBeNull();
    expect(resolveFile(root, '/assets')).toBeNull(); // a folder without a trailing slash is not a file
    expect(resolveFile(root, '/%E0%A4%A')).toBeNull(); // malformed escape
  });

  it('serves the page with content types and says where', async () => {
    const { server, url } = await startWebServer(root, 0);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toBe('<p>hello</p>');
      const js = await fetch(url + 'assets/a.js');
      expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect((await fetch(url + 'nope')).status).toBe(404);
      expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  it('refuses a bad port with one line and status 2', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (s: string) => errors.push(s) > 0;
    try {
      expect(await main(['web', '--port', '70000'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toBe("pagelab: bad --port '70000': expected 0 to 65535\n");
  });
});
