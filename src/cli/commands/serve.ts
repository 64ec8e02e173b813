import type { Command } from 'commander';
import { parseRole, runUntilSignalled } from '../../process.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the service: api, worker, scheduler, or all of them in one process')
    .option('--role <role>', 'api | worker | scheduler | all', 'all')
    .action(async (options: { role: string }) => {
      await runUntilSignalled(parseRole(options.role));
    });
}
