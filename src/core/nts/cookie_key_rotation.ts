// When the NTS cookie keys rotate and which ones stay valid: a pure policy over the stored keys.
import type { CookieKey, CookieKeyRing } from "./cookie.ts";

/** A cookie key as stored: with the time it was made. */
export interface StoredCookieKey extends CookieKey {
  /** Unix seconds when the key was made. */
  readonly createdUnixSeconds: number;
}

/** Rotation settings. */
export interface RotationPolicy {
  /** A new key once the newest is this old, seconds. */
  readonly rotateSeconds: number;
  /** Previous keys kept valid besides the current one. */
  readonly keep: number;
}

/**
 * Whether a new key is due: no key yet, or the newest is `rotateSeconds` old (or from the
 * future by more than that: a clock set back).
 *
 * @example
 * ```ts
 * rotationDue([], 1000, { rotateSeconds: 86400, keep: 7 }); // true
 * ```
 */
export function rotationDue(
  keys: readonly StoredCookieKey[],
  nowUnixSeconds: number,
  policy: RotationPolicy,
): boolean {
  const newest = keys[0];
  if (newest === undefined) return true;
  const age = nowUnixSeconds - newest.createdUnixSeconds;
  return age >= policy.rotateSeconds || age < -policy.rotateSeconds;
}

/**
 * Seconds until the next rotation is due (0 when due now).
 *
 * @example
 * ```ts
 * secondsUntilRotation([{ id: 1, key: new Uint8Array(32), createdUnixSeconds: 0 }], 100, {
 *   rotateSeconds: 3600, keep: 7,
 * }); // 3500
 * ```
 */
export function secondsUntilRotation(
  keys: readonly StoredCookieKey[],
  nowUnixSeconds: number,
  policy: RotationPolicy,
): number {
  if (rotationDue(keys, nowUnixSeconds, policy)) return 0;
  return keys[0]!.createdUnixSeconds + policy.rotateSeconds - nowUnixSeconds;
}

/**
 * The keys after adding `fresh` as the current one: newest first, at most 1 + `keep`. The keys
 * are sorted by creation time first, so a file edited by hand cannot make an old key current.
 *
 * @throws {RangeError} When `fresh` reuses the id of a key that stays.
 * @example
 * ```ts
 * const keys = withNewKey([], { id: 7, key: new Uint8Array(32), createdUnixSeconds: 0 }, {
 *   rotateSeconds: 86400, keep: 7,
 * });
 * keys.length; // 1
 * ```
 */
export function withNewKey(
  keys: readonly StoredCookieKey[],
  fresh: StoredCookieKey,
  policy: RotationPolicy,
): StoredCookieKey[] {
  // A key dated after the new one (made before the clock was set back) becomes older than it,
  // or it would stay current for as long as the clock takes to catch up.
  const before = keys.map((key) =>
    key.createdUnixSeconds < fresh.createdUnixSeconds
      ? key
      : { ...key, createdUnixSeconds: fresh.createdUnixSeconds - 1 }
  );
  const kept = sortedNewestFirst(before).slice(0, Math.max(0, policy.keep));
  if (kept.some((key) => key.id === fresh.id)) {
    throw new RangeError(`cookie key id ${fresh.id} is already in use`);
  }
  return [fresh, ...kept];
}

/**
 * The stored keys, newest first, at most 1 + `keep` (what stays valid when no rotation is due).
 *
 * @example
 * ```ts
 * trimmedKeys([], { rotateSeconds: 86400, keep: 7 }); // []
 * ```
 */
export function trimmedKeys(
  keys: readonly StoredCookieKey[],
  policy: RotationPolicy,
): StoredCookieKey[] {
  return sortedNewestFirst(keys).slice(0, 1 + Math.max(0, policy.keep));
}

/**
 * The ring the responders use: the newest key seals, all of them open.
 *
 * @throws {RangeError} With no keys.
 * @example
 * ```ts
 * const ring = ringOf([{ id: 1, key: new Uint8Array(32), createdUnixSeconds: 0 }]);
 * ring.current.id; // 1
 * ```
 */
export function ringOf(keys: readonly StoredCookieKey[]): CookieKeyRing {
  const sorted = sortedNewestFirst(keys);
  const current = sorted[0];
  if (current === undefined) throw new RangeError("no cookie key");
  return { current, valid: sorted };
}

function sortedNewestFirst(keys: readonly StoredCookieKey[]): StoredCookieKey[] {
  return [...keys].sort((a, b) => b.createdUnixSeconds - a.createdUnixSeconds);
}
