import { CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { DomainError } from '../domain/errors.js';
import type { Translate } from '../i18n/index.js';
import { StartupError } from '../service.js';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';

/** What a person sees when a command stops, and the exit code of its cause (README, "Exit codes"). */
export function describeFailure(error: unknown, t: Translate): { message: string | null; exitCode: ExitCode } {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (and the help).
    const done = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
    return { message: null, exitCode: done ? EXIT.ok : EXIT.usage };
  }
  if (error instanceof CliError) return { message: t('error.prefix', { message: error.message }), exitCode: error.exitCode };
  if (error instanceof ConfigError) {
    const lines = error.problems.map((problem) =>
      typeof problem === 'string'
        ? problem
        : 'variable' in problem
          ? t('config.variable', { variable: problem.variable, problem: t(`config.${problem.key}`, problem.params) })
          : t('config.file', { file: problem.file, path: problem.path, problem: t(`config.${problem.key}`, problem.params) }),
    );
    return { message: t('error.prefix', { message: t('cli.config', { message: lines.join('\n') }) }), exitCode: EXIT.invalidInput };
  }
  if (error instanceof DomainError || error instanceof StartupError) return { message: t('error.prefix', { message: error.message }), exitCode: EXIT.invalidInput };
  // A bug: the stack is what whoever fixes it needs.
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { message: t('error.prefix', { message: t('cli.unexpected', { detail }) }), exitCode: EXIT.runFailed };
}

