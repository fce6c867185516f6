// Stand-ins for the Node modules that src/ imports for its CLI paths (reading
// the default kernel from disk, opening image files). The page never takes
// those paths: it fetches the kernel and reads dropped files itself. Anything
// that does reach here is a bug, and says so.

/** unavailable throws: a Node-only path was taken in the browser. */
function unavailable(name: string): never {
  throw new Error(`${name} is not available in the browser page`);
}

export const readFileSync = (): never => unavailable('fs.readFileSync');
export const existsSync = (): never => unavailable('fs.existsSync');
export const openSync = (): never => unavailable('fs.openSync');
export const closeSync = (): never => unavailable('fs.closeSync');
export const readSync = (): never => unavailable('fs.readSync');
export const writeSync = (): never => unavailable('fs.writeSync');
export const fstatSync = (): never => unavailable('fs.fstatSync');
export const ftruncateSync = (): never => unavailable('fs.ftruncateSync');
export const gunzipSync = (): never => unavailable('zlib.gunzipSync');
export const fileURLToPath = (): never => unavailable('url.fileURLToPath');
export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
export const dirname = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));
export const join = (...parts: string[]): string => parts.join('/');
