/**
 * True time for Deno and TypeScript programs, from NTP servers: a one-shot {@link query}, a
 * {@link TrueClock} that keeps the true time whatever this machine's clock says, and
 * {@link totp} codes from it. Needs only `--allow-net`: portable UDP (node:dgram) and
 * `Date.now()`, so offsets are good to about a millisecond (microseconds when the program may
 * also use FFI). The `ntp` command line is the package's `./cli` export.
 *
 * @example
 * ```ts
 * import { query, totp, TrueClock } from "./mod.ts";
 * const answer = await query("time.cloudflare.com");
 * console.log(`offset ${answer.offsetSeconds} s, stratum ${answer.stratum}`);
 * await using clock = await TrueClock.start({ pools: ["pool.ntp.org"] });
 * await clock.synchronisation(AbortSignal.timeout(30_000));
 * console.log(await totp("JBSWY3DPEHPK3PXP", { clock }));
 * ```
 *
 * @module
 */
export {
  KissOfDeathError,
  NtpQueryError,
  query,
  type QueryOptions,
  type QueryResult,
  UnsynchronisedServerError,
} from "./src/lib/query.ts";
export {
  TrueClock,
  type TrueClockOptions,
  type TrueClockServer,
  type TrueClockState,
} from "./src/lib/true_clock.ts";
export { decodeBase32, totp, totpAt, type TotpClock, type TotpOptions } from "./src/lib/totp.ts";
export type { LocalClock } from "./src/lib/local_clock.ts";
