#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from './config.js';
import { parseRole, runUntilSignalled } from './process.js';

/** Process entry: `node dist/src/main.js --role api|worker|scheduler|all`. */
try {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { role: { type: 'string', default: 'all' } } });
  await runUntilSignalled(parseRole(values.role));
} catch (error) {
  process.stderr.write(`loa: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
