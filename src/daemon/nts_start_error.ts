// The error NTS start-up ends with when the user must fix something (kept apart so serve.ts need not load NTS).

/** NTS could not start for a reason the user can fix (the message says which). */
export class NtsStartError extends Error {
  override name = "NtsStartError";
}
