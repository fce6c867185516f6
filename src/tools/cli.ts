// The pagelab command line: one sub-command per file in ./commands.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { PagelabError } from '../errors.js';
import { registerBoot } from './commands/boot.js';
import { registerTranslate } from './commands/translate.js';
import { registerInspect } from './commands/inspect.js';
import { registerReplay } from './commands/replay.js';
import { registerTrace } from './commands/trace.js';
import { registerPolicy } from './commands/policy.js';
import { registerRun } from './commands/run.js';
import { registerWeb } from './commands/web.js';

/**
 * main parses argv (without node and script) and runs the chosen command.
 * A PagelabError prints one line and gives exit status 2; anything else is a bug.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('pagelab')
    .description('x86 virtual memory, from page walk to kernel heap, on a bit-exact IA-32 paging model')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(pagelab help COMMAND, or COMMAND --help, shows its options)');
  registerBoot(program);
  registerTranslate(program);
  registerInspect(program);
  registerReplay(program);
  registerTrace(program);
  registerPolicy(program);
  registerRun(program);
  registerWeb(program);
  try {
    process.exitCode = 0; // a command sets it when it fails without throwing
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof PagelabError) {
      process.stderr.write(`pagelab: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/** packageVersion reads pagelab's version from package.json (above src/tools, or dist/src/tools). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'pagelab' && pkg.version !== undefined) return pkg.version;
    } catch {
      // not there: try the next level
    }
  }
  return 'unknown';
}
