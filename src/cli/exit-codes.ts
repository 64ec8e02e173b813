/**
 * The one table of `loa` exit codes (README, "Exit codes"). Every command ends with one of these;
 * a CliError carries the code for its cause.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Invalid input: a campaign, a CSV, an argument value the command refused. */
  invalidInput: 1,
  /** Usage: an unknown command or option, a missing argument. */
  usage: 2,
  /** A service (PostgreSQL, Redis, the Loa API) could not be reached. */
  unreachable: 3,
  /** Refused: no key, a bad key, or a role that may not do this. */
  refused: 4,
  /** The run failed or was cancelled (`loa launch --wait`, `loa status`). */
  runFailed: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error a person should see as one line, with the exit code of its cause. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The service's answer, for `--json` output. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}
