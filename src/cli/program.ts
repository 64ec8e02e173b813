import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadLanguage } from '../config.js';
import { translator, type Translate } from '../i18n/index.js';
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

export function buildProgram(t: Translate): Command {
  const program = new Command('loa')
    .description(t('cli.description'))
    .version(packageVersion(), '-V, --version', t('cli.versionOption'))
    .helpOption('-h, --help', t('cli.helpOption'))
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
