import type { Command } from 'commander';

/** Every `loa` subcommand; each module adds itself to the program. */
export const commands: ReadonlyArray<(program: Command) => void> = [];
