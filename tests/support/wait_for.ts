// Polling until a condition holds, for tests that watch a running process (its log, its files, its answers): one implementation for every test.

/** How long to poll and how often. */
export interface PollOptions {
  /** Give up after this long, ms (default 30000). */
  readonly timeoutMs?: number;
  /** Look again after this long, ms (default 200). */
  readonly intervalMs?: number;
}

/**
 * Polls `ok` until it holds; true then, false when `timeoutMs` ran out first (for a caller that
 * asserts with a message of its own).
 */
export async function becomes(
  ok: () => boolean | Promise<boolean>,
  options: PollOptions = {},
): Promise<boolean> {
  const deadline = performance.now() + (options.timeoutMs ?? 30_000);
  while (!(await ok())) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
  return true;
}

/** Polls `ok` until it holds; throws "timed out waiting for WHAT" when `timeoutMs` runs out. */
export async function waitFor(
  what: string,
  ok: () => boolean | Promise<boolean>,
  options: PollOptions = {},
): Promise<void> {
  if (!(await becomes(ok, options))) throw new Error(`timed out waiting for ${what}`);
}

/**
 * Reads `read()` until `ok(value)` holds and returns that value; on timeout the error shows the
 * last value read.
 */
export async function waitForValue<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  options: PollOptions = {},
): Promise<T> {
  let last: T = await read();
  const done = await becomes(async () => {
    if (ok(last)) return true;
    last = await read();
    return ok(last);
  }, options);
  if (!done) {
    throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last, null, 1)}`);
  }
  return last;
}
