// The README's "Library API" examples: each ```js block of the api section is a
// whole ESM program; a `// → TEXT` comment says the line it prints, in order.

import { readFileSync } from 'node:fs';

export interface ReadmeExample {
  readonly code: string;
  readonly expected: readonly string[];
}

/** readmeExamples extracts the api section's js blocks and the output each one promises. */
export function readmeExamples(
  readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8'),
): ReadmeExample[] {
  const start = readme.indexOf('<!-- section:api -->');
  const end = readme.indexOf('<!-- /section:api -->', start);
  if (start < 0 || end < 0) throw new Error('README.md has no <!-- section:api --> ... <!-- /section:api -->');
  const blocks = [...readme.slice(start, end).matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.map((code) => ({ code, expected: [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim()) }));
}

/** withImportsFrom rewrites `from 'pagelab...'` specifiers through `resolve` (for running against the sources). */
export function withImportsFrom(code: string, resolve: (specifier: string) => string): string {
  return code.replace(/from '(pagelab(?:\/[a-z]+)?)'/g, (_, spec: string) => `from '${resolve(spec)}'`);
}
