// The client side of one NTS association (RFC 8915 §5-6): its keys and cookies, when NTS-KE must run (again), the protected request for each poll, and which replies may reach the clock filter. Pure: time, randomness and the AEAD are passed in.
//
// Rules (chrony and NTPsec behave alike; RFC 8915 where it says so):
// - each cookie is used once; a request carries placeholders for the cookies it is short of (up to
//   8 held), and an authenticated reply's cookies are kept, oldest used first;
// - a reply is accepted only when it echoes the Unique Identifier of the request outstanding and
//   its authenticator verifies under the server-to-client key; then that identifier is spent, so
//   a replayed reply is dropped too;
// - an NTS NAK (Kiss code NTSN with our identifier) is not authenticated: as RFC 8915 §5.7 says,
//   the request stays open for a valid protected reply, and only when the next poll comes without
//   one does NTS-KE run again (an on-path forger cannot end a working session by itself);
// - NTS-KE runs at the start, when the cookies run out (as 8 requests without an authenticated
//   reply leave them), and after such a NAK; a failed key
//   exchange, or one followed by a NAK before any authenticated reply, is retried no sooner than
//   the poll interval, doubling after each failure up to {@link NTS_KE_RETRY_MAX_SECONDS};
// - cookies longer than {@link NTS_MAX_COOKIE_BYTES} are not kept, and a request carries only as
//   many placeholders as keep it within {@link NTS_MAX_REQUEST_BYTES}.
import { AES_SIV_TAG_BYTES, type SivAead } from "./aead.ts";
import type { NtsSessionKeys } from "./cookie.ts";
import { buildNtsRequest, checkNtsReply } from "./nts_client_request.ts";
import { padded } from "./nts_request.ts";

/** Cookies held at most (as many as NTS-KE hands out). */
export const NTS_MAX_COOKIES = 8;

/** Longest cookie kept (chrony's limit; ours are 104 bytes). */
export const NTS_MAX_COOKIE_BYTES = 256;

/** Largest request sent: placeholders are left out beyond it (well under any path MTU). */
export const NTS_MAX_REQUEST_BYTES = 1200;

/** The shortest wait after a failed key exchange, seconds. */
export const NTS_KE_RETRY_MIN_SECONDS = 16;

/** The longest wait between key exchanges that fail, seconds (about 36 h, like maxpoll 17). */
export const NTS_KE_RETRY_MAX_SECONDS = 2 ** 17;

/** Bytes of the Unique Identifier each request carries. */
export const NTS_UNIQUE_ID_BYTES = 32;

/** Bytes of the authenticator's nonce. */
export const NTS_NONCE_BYTES = 16;

/** What one successful NTS-KE gave the association. */
export interface NtsKeyExchangeOutcome {
  readonly keys: NtsSessionKeys;
  readonly cookies: readonly Uint8Array[];
}

/** Counters of one NTS association, since it was created. */
export interface NtsClientCounters {
  /** Key exchanges started. */
  readonly keyExchanges: number;
  /** Key exchanges that gave keys and cookies. */
  readonly keyExchangesGood: number;
  readonly keyExchangeFailures: number;
  readonly requests: number;
  readonly authenticated: number;
  /** NTS NAKs received (each ends the keys and cookies). */
  readonly naks: number;
  /** Replies dropped: no request outstanding, another identifier, a bad authenticator, malformed. */
  readonly dropped: number;
}

/** The NTS side of one association. */
export interface NtsClientState {
  /** Keys of the last key exchange, or null before one (and after a NAK). */
  readonly keys: NtsSessionKeys | null;
  /** Unused cookies, oldest first. */
  readonly cookies: readonly Uint8Array[];
  /** Unique Identifier of the request awaiting its reply, or null. */
  readonly expectedUniqueId: Uint8Array | null;
  /** True while a key exchange runs (the I/O layer's). */
  readonly keyExchangeRunning: boolean;
  /** Key exchanges failed in a row. */
  readonly failuresInRow: number;
  /** Earliest monotonic time of the next key exchange, seconds. */
  readonly nextKeyExchangeMonotonicSeconds: number;
  /** An NTS NAK came for the request outstanding and no authenticated reply since. */
  readonly nakPending: boolean;
  /** An authenticated reply came since the last key exchange. */
  readonly authenticatedSinceKeyExchange: boolean;
  /** Why the association cannot send or was last refused (key exchange error, NAK), or null. */
  readonly problem: string | null;
  readonly counters: NtsClientCounters;
}

/** An association's NTS state before its first key exchange. */
export const initialNtsClientState: NtsClientState = Object.freeze({
  keys: null,
  cookies: Object.freeze([]) as readonly Uint8Array[],
  expectedUniqueId: null,
  keyExchangeRunning: false,
  failuresInRow: 0,
  nextKeyExchangeMonotonicSeconds: -Infinity,
  nakPending: false,
  authenticatedSinceKeyExchange: false,
  problem: null,
  counters: Object.freeze({
    keyExchanges: 0,
    keyExchangesGood: 0,
    keyExchangeFailures: 0,
    requests: 0,
    authenticated: 0,
    naks: 0,
    dropped: 0,
  }),
});

/** A short word for the state, as `ntp status` and mode 6 show it. */
export type NtsClientPhase = "key exchange" | "ready" | "no cookies" | "failed";

/**
 * The association's phase: "ready" (keys and cookies), "key exchange" (one is running),
 * "failed" (the last key exchange failed and none runs), "no cookies" (waiting for one to start).
 *
 * @example
 * ```ts
 * ntsClientPhase(initialNtsClientState); // "no cookies"
 * ```
 */
export function ntsClientPhase(state: NtsClientState): NtsClientPhase {
  if (state.keyExchangeRunning) return "key exchange";
  if (state.keys !== null && state.cookies.length > 0 && !state.nakPending) return "ready";
  return state.failuresInRow > 0 ? "failed" : "no cookies";
}

/**
 * Whether a key exchange should start now: none runs, the retry wait has passed, and there are
 * no keys, no cookies (also what {@link NTS_MAX_COOKIES} unanswered requests leave), or a NAK
 * was not followed by a valid reply before the next poll.
 *
 * @example
 * ```ts
 * keyExchangeDue(initialNtsClientState, { monotonicSeconds: 0 }); // true
 * ```
 */
export function keyExchangeDue(
  state: NtsClientState,
  options: { readonly monotonicSeconds: number },
): boolean {
  if (state.keyExchangeRunning) return false;
  if (options.monotonicSeconds < state.nextKeyExchangeMonotonicSeconds) return false;
  // Eight requests without an authenticated reply use up the eight cookies: that case is here too.
  return state.keys === null || state.cookies.length === 0 || state.nakPending;
}

/**
 * Marks a key exchange as started (the caller runs it).
 *
 * @example
 * ```ts
 * const running = keyExchangeStarted(initialNtsClientState);
 * running.keyExchangeRunning; // true
 * ```
 */
export function keyExchangeStarted(state: NtsClientState): NtsClientState {
  return {
    ...state,
    keyExchangeRunning: true,
    counters: { ...state.counters, keyExchanges: state.counters.keyExchanges + 1 },
  };
}

/**
 * Takes the keys and cookies of a successful key exchange (the old ones are dropped: they belong
 * to keys the server may no longer have). The failures in a row are reset by the first
 * authenticated reply, not here: a server that hands out cookies and then NAKs them is backed off
 * like one that refuses the key exchange.
 *
 * @example
 * ```ts
 * import type { NtsKeyExchangeOutcome } from "./nts_client_session.ts";
 * declare const outcome: NtsKeyExchangeOutcome;
 * const ready = keyExchangeSucceeded(keyExchangeStarted(initialNtsClientState), outcome);
 * ```
 */
export function keyExchangeSucceeded(
  state: NtsClientState,
  outcome: NtsKeyExchangeOutcome,
): NtsClientState {
  const cookies = outcome.cookies.filter((c) => c.length <= NTS_MAX_COOKIE_BYTES)
    .slice(0, NTS_MAX_COOKIES);
  return {
    ...state,
    keys: outcome.keys,
    cookies,
    expectedUniqueId: null,
    keyExchangeRunning: false,
    nakPending: false,
    authenticatedSinceKeyExchange: false,
    counters: { ...state.counters, keyExchangesGood: state.counters.keyExchangesGood + 1 },
    problem: cookies.length === 0
      ? `the key exchange gave no cookie of at most ${NTS_MAX_COOKIE_BYTES} bytes`
      : null,
  };
}

/**
 * Records a failed key exchange and when to try again: not before the poll interval, doubling
 * with each failure in a row, at most {@link NTS_KE_RETRY_MAX_SECONDS}.
 *
 * @example
 * ```ts
 * const failed = keyExchangeFailed(keyExchangeStarted(initialNtsClientState), "refused",
 *   { monotonicSeconds: 100, pollLog2: 6 });
 * failed.nextKeyExchangeMonotonicSeconds; // 164
 * ```
 */
export function keyExchangeFailed(
  state: NtsClientState,
  reason: string,
  options: { readonly monotonicSeconds: number; readonly pollLog2: number },
): NtsClientState {
  const failures = state.failuresInRow + 1;
  const backoff = NTS_KE_RETRY_MIN_SECONDS * 2 ** (failures - 1);
  const waitSeconds = Math.min(
    NTS_KE_RETRY_MAX_SECONDS,
    Math.max(2 ** options.pollLog2, backoff),
  );
  return {
    ...state,
    keyExchangeRunning: false,
    failuresInRow: failures,
    nextKeyExchangeMonotonicSeconds: options.monotonicSeconds + waitSeconds,
    problem: reason,
    counters: {
      ...state.counters,
      keyExchangeFailures: state.counters.keyExchangeFailures + 1,
    },
  };
}

/** The request to send, or null when no cookie is left (a key exchange must come first). */
export interface NtsPreparedRequest {
  readonly state: NtsClientState;
  readonly bytes: Uint8Array | null;
}

/**
 * Protects `header` (the 48-byte mode 3 request, transmit timestamp written) with a fresh Unique
 * Identifier, the oldest cookie, placeholders for the cookies missing and the authenticator.
 * The identifier becomes the one a reply must echo (an earlier request's reply is dropped).
 *
 * @example
 * ```ts
 * import { AES_SIV_TAG_BYTES, type SivAead } from "./aead.ts";
 * declare const aead: SivAead;
 * declare const state: NtsClientState;
 * declare const header: Uint8Array;
 * const fresh = { uniqueId: new Uint8Array(32), nonce: new Uint8Array(16) }; // random in use
 * const { state: next, bytes } = prepareNtsRequest(state, header, fresh, aead);
 * ```
 */
export function prepareNtsRequest(
  state: NtsClientState,
  header: Uint8Array,
  fresh: { readonly uniqueId: Uint8Array; readonly nonce: Uint8Array },
  aead: SivAead,
): NtsPreparedRequest {
  const [cookie, ...rest] = state.cookies;
  // After a NAK the cookies are most likely dead: the poll waits for a new key exchange.
  if (state.keys === null || cookie === undefined || state.nakPending) {
    return { state, bytes: null };
  }
  const fieldBytes = 4 + padded(cookie.length);
  // Header, Unique Identifier, cookie, authenticator (nonce and tag).
  const fixedBytes = 48 + (4 + padded(fresh.uniqueId.length)) + fieldBytes +
    (4 + 4 + padded(fresh.nonce.length) + AES_SIV_TAG_BYTES);
  const placeholders = Math.max(
    0,
    Math.min(
      NTS_MAX_COOKIES - 1 - rest.length,
      Math.floor((NTS_MAX_REQUEST_BYTES - fixedBytes) / fieldBytes),
    ),
  );
  const bytes = buildNtsRequest({
    header,
    uniqueId: fresh.uniqueId,
    cookie,
    placeholders,
    c2s: state.keys.c2s,
    nonce: fresh.nonce,
  }, aead);
  return {
    state: {
      ...state,
      cookies: rest,
      expectedUniqueId: fresh.uniqueId.slice(),
      counters: { ...state.counters, requests: state.counters.requests + 1 },
    },
    bytes,
  };
}

/** The verdict on one reply. */
export type NtsReplyVerdict =
  /** Authenticated: `header` (the reply's first 48 bytes) may reach the clock filter. */
  | { readonly kind: "authenticated"; readonly header: Uint8Array }
  /** An NTS NAK with our identifier: a key exchange is due at the next poll unless a valid reply comes first. */
  | { readonly kind: "nak" }
  /** Dropped, and why. */
  | { readonly kind: "dropped"; readonly reason: string };

/**
 * Checks a reply from the association's server: see the file header for what is accepted. A
 * NAK right after a key exchange (no authenticated reply since) counts as a failed key exchange
 * for the backoff, at `options.monotonicSeconds` with poll `options.pollLog2`.
 *
 * @example
 * ```ts
 * import { AES_SIV_TAG_BYTES, type SivAead } from "./aead.ts";
 * declare const aead: SivAead;
 * declare const reply: Uint8Array;
 * const { state, verdict } = acceptNtsReply(initialNtsClientState, reply, aead,
 *   { monotonicSeconds: 100, pollLog2: 6 });
 * verdict.kind; // "dropped": no request was outstanding
 * ```
 */
export function acceptNtsReply(
  state: NtsClientState,
  reply: Uint8Array,
  aead: SivAead,
  options: { readonly monotonicSeconds: number; readonly pollLog2: number },
): { readonly state: NtsClientState; readonly verdict: NtsReplyVerdict } {
  const drop = (reason: string) => ({
    state: {
      ...state,
      counters: { ...state.counters, dropped: state.counters.dropped + 1 },
    },
    verdict: { kind: "dropped", reason } as const,
  });
  if (state.keys === null || state.expectedUniqueId === null) {
    return drop("no NTS request outstanding");
  }
  const check = checkNtsReply(reply, {
    uniqueId: state.expectedUniqueId,
    s2c: state.keys.s2c,
  }, aead);
  if (!check.ok) {
    if (check.reason !== "NTS NAK") return drop(check.reason);
    const problem = "the server sent an NTS NAK (it no longer accepts our cookies)";
    const counted = { ...state.counters, naks: state.counters.naks + 1 };
    // Keys and the request stay: a valid reply may still come (the NAK may be forged).
    const nakked: NtsClientState = { ...state, nakPending: true, counters: counted };
    if (state.authenticatedSinceKeyExchange) {
      return { state: { ...nakked, problem }, verdict: { kind: "nak" } };
    }
    // Cookies that never worked: back off as for a failed key exchange.
    return {
      state: keyExchangeFailed({ ...nakked, keyExchangeRunning: true }, problem, options),
      verdict: { kind: "nak" },
    };
  }
  const fresh = check.cookies.filter((c) => c.length <= NTS_MAX_COOKIE_BYTES);
  const cookies = [...state.cookies, ...fresh].slice(-NTS_MAX_COOKIES);
  return {
    state: {
      ...state,
      cookies,
      expectedUniqueId: null,
      nakPending: false,
      authenticatedSinceKeyExchange: true,
      failuresInRow: 0,
      problem: null,
      counters: { ...state.counters, authenticated: state.counters.authenticated + 1 },
    },
    verdict: { kind: "authenticated", header: reply.subarray(0, 48) },
  };
}
