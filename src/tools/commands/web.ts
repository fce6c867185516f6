// `pagelab web`: serve the built web visualizer (web/dist, made by `npm run
// build:web`) on a local port and print its URL; --open also opens it in the
// desktop's browser. The page is static files: the machine and the kernel run
// in the browser, and this server only hands out the files.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { PagelabError } from '../../errors.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.elf': 'application/octet-stream',
};

interface WebOptions {
  port: string;
  host: string;
  open?: boolean;
}

/** webRoot finds web/dist above this module (from src/tools/commands or dist/src/tools/commands). */
export function webRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../../../..']) {
    const p = join(here, up, 'web', 'dist');
    if (existsSync(join(p, 'index.html'))) return p;
  }
  throw new PagelabError('the web page is not built: run `npm run build:web` in the pagelab clone first');
}

/** resolveFile maps a request path to a file under root, or null (outside root, or missing). */
export function resolveFile(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return null;
  }
  const file = normalize(join(root, path.endsWith('/') ? path + 'index.html' : path));
  if (file !== root && !file.startsWith(root + sep)) return null;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

/** handle answers one GET or HEAD with a file, 404 or 405. */
function handle(root: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const file = resolveFile(root, req.url ?? '/');
  if (file === null) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const body = readFileSync(file);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** startWebServer serves root on host:port (0 picks a free port) and resolves with the server and its URL. */
export function startWebServer(
  root: string,
  port: number,
  host = '127.0.0.1',
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => handle(root, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new PagelabError(
          `cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use (try --port)' : e.message}`,
        ),
      ),
    );
    server.listen(port, host, () => {
      const a = server.address();
      const actual = typeof a === 'object' && a !== null ? a.port : port;
      resolve({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}/` });
    });
  });
}

/** parsePort reads --port: 0 to 65535. */
function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw new PagelabError(`bad --port '${text}': expected 0 to 65535`);
  return Number(text);
}

/** openBrowser asks the desktop to open url (xdg-open, open or start), without waiting. */
function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`pagelab: could not run ${cmd}: open ${url} yourself\n`));
  child.unref();
}

export function registerWeb(program: Command): void {
  program
    .command('web')
    .description('serve the web visualizer (the machine runs in the browser) and print its URL')
    .option('--port <n>', 'TCP port (0: any free port)', '4173')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--open', 'open the page in the default browser')
    .action(async (o: WebOptions) => {
      const port = parsePort(o.port);
      const root = webRoot();
      const { server, url } = await startWebServer(root, port, o.host);
      process.stdout.write(`pagelab web: serving ${root} at ${url} (Ctrl-C stops)\n`);
      if (o.open === true) openBrowser(url);
      await untilStopped(server);
    });
}

/** untilStopped resolves when the server closes; SIGINT and SIGTERM close it (the command then exits 0). */
function untilStopped(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      server.close();
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    server.once('close', () => resolve());
  });
}
