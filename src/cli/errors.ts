// Error classes the CLI maps to exit codes: a user's mistake on the command line vs. everything else.

/** A bad command line (unknown flag or command, missing value); exit code 2 with usage. */
export class UsageError extends Error {
  override name = "UsageError";
}
