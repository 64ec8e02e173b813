#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { describeFatal, parseRole, runUntilSignalled } from './process.js';

/** Process entry: `node dist/src/main.js --role api|worker|scheduler|all`. */
try {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { role: { type: 'string', default: 'all' } } });
  await runUntilSignalled(parseRole(values.role));
} catch (error) {
  process.stderr.write(`loa: ${describeFatal(error)}\n`);
  process.exit(1);
}
