import type { Command } from 'commander';
import { register as audience } from './audience.js';
import { register as migrate } from './migrate.js';
import { register as preview } from './preview.js';
import { register as serve } from './serve.js';
import { register as sim } from './sim.js';
import { register as validate } from './validate.js';

/** Every `loa` subcommand; each module adds itself to the program. */
export const commands: ReadonlyArray<(program: Command) => void> = [serve, sim, migrate, validate, preview, audience];
