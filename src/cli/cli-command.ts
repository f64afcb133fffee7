/** Exit codes shared by every `warden` subcommand. Documented in the README. */
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem (verification failed, scenario step failed, call denied). */
  failure: 1,
  /** Bad command line. */
  usage: 2,
  /** Configuration or input file invalid. */
  config: 3,
  /** Could not reach a running warden (control API) or another runtime error. */
  unavailable: 4,
  /**
   * Interrupted by the user (Ctrl-C, SIGINT) in an interactive command (`warden approve`), where
   * quitting on purpose (`q`) is 0. 128 + SIGINT, as shells report a command killed by it.
   */
  interrupted: 130,
} as const;

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** One `warden <name>` subcommand. Each lives in its own file under src/cli/. */
export interface CliCommand {
  readonly name: string;
  /** One line for `warden --help`. */
  readonly summary: string;
  /** Runs the command; resolves to the process exit code. Prints its own `--help`. */
  run(argv: string[], io: CliIo): Promise<number>;
}
