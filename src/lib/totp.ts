// Time-based one-time passwords (RFC 6238) from a clock that may be the true one: the reason an application wants NTP at all.

/** A clock to take the time from: a TrueClock (true_clock.ts), or anything with `now()`. */
export interface TotpClock {
  /** The current time. */
  now(): Date;
  /** When present and false (a TrueClock not synchronised yet), {@link totp} refuses. */
  readonly synchronised?: boolean;
}

/** Options of {@link totp}. */
export interface TotpOptions {
  /** Where the time comes from; default the system clock. */
  readonly clock?: TotpClock;
  /** Seconds per code; default 30. */
  readonly periodSeconds?: number;
  /** Digits of the code, 6 to 10; default 6. */
  readonly digits?: number;
  /** The HMAC hash; default "SHA-1" (what authenticator apps use). */
  readonly algorithm?: "SHA-1" | "SHA-256" | "SHA-512";
}

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * The bytes of a base32 secret as authenticator apps show it (RFC 4648; case, spaces, dashes and
 * padding ignored).
 *
 * @throws {TypeError} On a character outside the alphabet.
 * @example
 * ```ts
 * decodeBase32("JBSW Y3DP"); // Uint8Array [72, 101, 108, 108, 111] ("Hello")
 * ```
 */
export function decodeBase32(text: string): Uint8Array {
  const clean = text.toUpperCase().replace(/[\s=-]/g, "");
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = base32Alphabet.indexOf(char);
    if (index < 0) throw new TypeError(`not a base32 secret: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * The one-time password of RFC 6238 at `atMilliseconds` (epoch ms).
 *
 * @example
 * ```ts
 * const secret = new TextEncoder().encode("12345678901234567890");
 * await totpAt(secret, 59_000, { digits: 8 }); // "94287082" (RFC 6238, appendix B)
 * ```
 */
export async function totpAt(
  secret: Uint8Array | string,
  atMilliseconds: number,
  options: Omit<TotpOptions, "clock"> = {},
): Promise<string> {
  const key = typeof secret === "string" ? decodeBase32(secret) : secret;
  const digits = options.digits ?? 6;
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) {
    throw new RangeError(`totp: digits ${digits} is not 6 to 10`);
  }
  const period = options.periodSeconds ?? 30;
  if (!(period > 0) || !Number.isFinite(period)) {
    throw new RangeError(`totp: periodSeconds ${period} is not a positive number of seconds`);
  }
  const counter = Math.floor(atMilliseconds / 1000 / period);
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    Uint8Array.from(key),
    { name: "HMAC", hash: options.algorithm ?? "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, message));
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) |
    (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/**
 * The one-time password (RFC 6238) for now, by `options.clock`: with a TrueClock the code
 * is right even when this machine's clock is minutes off. Rejects while that clock is not
 * synchronised (its time would be the local clock's). Digits beyond 9 come from a 31-bit value, as
 * RFC 4226 truncates: 10-digit codes are not uniform.
 *
 * @example
 * ```ts
 * import { TrueClock } from "./true_clock.ts";
 * await using clock = await TrueClock.start({ pools: ["pool.ntp.org"] });
 * await clock.synchronisation(AbortSignal.timeout(30_000));
 * console.log(await totp("JBSWY3DPEHPK3PXP", { clock }));
 * ```
 */
export function totp(secret: Uint8Array | string, options: TotpOptions = {}): Promise<string> {
  if (options.clock?.synchronised === false) {
    return Promise.reject(
      new Error("totp: the clock is not synchronised (await clock.synchronisation() first)"),
    );
  }
  const at = (options.clock?.now() ?? new Date()).getTime();
  return totpAt(secret, at, options);
}
