#!/usr/bin/env node
import { Command } from 'commander';
import { describeFatal } from '../process.js';
import { commands } from './commands/index.js';

const program = new Command('loa')
  .description('Loa: SMS and broadcast campaigns through SMPP carriers, screens and daily reports')
  .showHelpAfterError();
for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // A user mistake (config, input file, a service down) is a one-line message, not a stack trace.
  process.stderr.write(`loa: ${describeFatal(error)}\n`);
  process.exitCode = 1;
}
