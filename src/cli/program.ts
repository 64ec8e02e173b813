import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadLanguage } from '../config.js';
import { translator, type MessageKey, type Translate } from '../i18n/index.js';
import { commands } from './commands/index.js';
import { describeFailure } from './failure.js';

/** The version in package.json, found from here both in src/cli (tsx) and dist/src/cli (built). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'loa' && pkg.version) return pkg.version;
    } catch {
      // not here; look one directory up
    }
  }
  return 'unknown';
}

const HELP_TITLES: Readonly<Record<string, MessageKey>> = {
  'Usage:': 'cli.help.usage',
  'Options:': 'cli.help.options',
  'Arguments:': 'cli.help.arguments',
  'Commands:': 'cli.help.commands',
  'Global Options:': 'cli.help.globalOptions',
};

/** Commander's own usage errors (it has no catalogue), reworded; anything not listed passes unchanged. */
const USAGE_ERRORS: ReadonlyArray<[RegExp, MessageKey]> = [
  [/^error: unknown option '(?<name>[^']*)'/, 'cli.usage.unknownOption'],
  [/^error: unknown command '(?<name>[^']*)'/, 'cli.usage.unknownCommand'],
  [/^error: missing required argument '(?<name>[^']*)'/, 'cli.usage.missingArgument'],
  [/^error: option '(?<name>[^']*)' argument missing/, 'cli.usage.optionArgumentMissing'],
  [/^error: required option '(?<name>[^']*)' not specified/, 'cli.usage.requiredOption'],
  [/^error: too many arguments/, 'cli.usage.tooManyArguments'],
  [/^error: option '(?<name>[^']*)' argument '(?<value>[^']*)' is invalid\. (?<reason>.*)$/s, 'cli.usage.invalidArgument'],
];

export function translateUsageError(text: string, t: Translate): string {
  for (const [pattern, key] of USAGE_ERRORS) {
    const match = pattern.exec(text.trim());
    if (!match) continue;
    const rest = text.trim().slice(match[0].length).replace(/\(Did you mean (?:one of )?(.*)\?\)/, (_, similar: string) => t('cli.usage.didYouMean', { similar }));
    return `${t('error.prefix', { message: t(key, { name: match.groups?.name ?? '', value: match.groups?.value ?? '', reason: match.groups?.reason ?? '' }) })}${rest}\n`;
  }
  return text;
}

export function buildProgram(t: Translate): Command {
  const program = new Command('loa')
    .description(t('cli.description'))
    .version(packageVersion(), '-V, --version', t('cli.versionOption'))
    .helpOption('-h, --help', t('cli.helpOption'))
    .helpCommand('help [command]', t('cli.helpCommand'))
    // Subcommands inherit both: help and usage errors in the reader's language too.
    .configureHelp({ styleTitle: (title) => (HELP_TITLES[title] ? t(HELP_TITLES[title]) : title) })
    .configureOutput({ outputError: (text, write) => write(translateUsageError(text, t)) })
    .showHelpAfterError()
    // Usage mistakes come back as CommanderErrors, so they get the exit code of the one table.
    .exitOverride();
  for (const register of commands) register(program, t);
  return program;
}

/** Runs `loa` with `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const t = translator(loadLanguage());
  try {
    await buildProgram(t).parseAsync([...argv], { from: 'user' });
  } catch (error) {
    const { message, exitCode } = describeFailure(error, t);
    if (message) process.stderr.write(`${message}\n`);
    return exitCode;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0) || 0;
}
