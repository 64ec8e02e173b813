#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { commands } from './commands/index.js';

const program = new Command('loa')
  .description('Loa: SMS and broadcast campaigns through SMPP carriers, screens and daily reports')
  .showHelpAfterError();
for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // A user mistake (config, input file) is a one-line message, not a stack trace.
  const message = error instanceof ConfigError || error instanceof DomainError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`loa: ${message}\n`);
  process.exitCode = 1;
}
