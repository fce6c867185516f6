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
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'pagelab: ')) })
    .showHelpAfterError('(pagelab help COMMAND, or COMMAND --help, shows its options)');
  registerBoot(program);
  registerTranslate(program);
  registerInspect(program);
  registerReplay(program);
  registerTrace(program);
  registerPolicy(program);
  registerRun(program);
  registerWeb(program);
  const refusal = refuseEmpty(program, argv);
  if (refusal !== null) {
    process.stderr.write(`pagelab: ${refusal}\n(pagelab help lists the commands; pagelab help COMMAND shows one)\n`);
    return 2;
  }
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

/**
 * refuseEmpty says what is wrong with a command line that names no command, a command group without its
 * subcommand, or `help` of an unknown command (commander would print a page of help and no reason); else null.
 */
function refuseEmpty(program: Command, argv: readonly string[]): string | null {
  const words = argv.filter((a) => !a.startsWith('-'));
  const flags = argv.filter((a) => a.startsWith('-'));
  if (argv.length === 0) return 'no command given';
  if (words.length === 0 || flags.some((f) => f === '-h' || f === '--help' || f === '-V' || f === '--version'))
    return null;
  const names = program.commands.map((c) => c.name());
  const [first, second] = words;
  if (first === 'help') return words.length < 2 || names.includes(second) ? null : unknown(second, names);
  const group = program.commands.find((c) => c.name() === first);
  if (group === undefined || group.commands.length === 0 || argv.length > 1) return null;
  return `${first}: give one of its commands (${group.commands.map((c) => c.name()).join(', ')})`;
}

/** unknown names a command that does not exist, with the list of those that do. */
function unknown(name: string, names: readonly string[]): string {
  return `unknown command '${name}' (the commands: ${names.join(', ')})`;
}
