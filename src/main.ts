#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CliError, EXIT } from './cli/exit-codes.js';
import { describeFailure } from './cli/failure.js';
import { loadLanguage } from './config.js';
import { translator } from './i18n/index.js';
import { parseRole, runUntilSignalled } from './process.js';

/** Process entry: `node dist/src/main.js --role api|worker|scheduler|all`. Exit codes: README, "Exit codes". */
const t = translator(loadLanguage());
try {
  let role: string;
  try {
    role = parseArgs({ args: process.argv.slice(2), options: { role: { type: 'string', default: 'all' } } }).values.role;
  } catch (error) {
    // An unknown option: a usage error, like commander's in `loa`.
    throw new CliError((error as Error).message, EXIT.usage);
  }
  await runUntilSignalled(parseRole(role, t), t);
} catch (error) {
  const { message, exitCode } = describeFailure(error, t);
  if (message) process.stderr.write(`${message}\n`);
  process.exit(exitCode);
}
