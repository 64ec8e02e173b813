import type { Command } from 'commander';
import type { Translate } from '../../i18n/index.js';
import { register as approvals } from './approvals.js';
import { register as audience } from './audience.js';
import { register as keys } from './keys.js';
import { register as loudspeakers } from './loudspeakers.js';
import { register as launch } from './launch.js';
import { register as migrate } from './migrate.js';
import { register as preview } from './preview.js';
import { register as report } from './report.js';
import { register as runControl } from './run-control.js';
import { register as runs } from './runs.js';
import { register as screens } from './screens.js';
import { register as serve } from './serve.js';
import { register as sim } from './sim.js';
import { register as speak } from './speak.js';
import { register as status } from './status.js';
import { register as users } from './users.js';
import { register as validate } from './validate.js';

/** Every `loa` subcommand; each module adds itself to the program, its help in the reader's language (`t`). */
export const commands: ReadonlyArray<(program: Command, t: Translate) => void> = [serve, sim, migrate, validate, preview, keys, launch, status, runs, runControl, audience, screens, loudspeakers, speak, report, users, approvals];
