// NTS-protected time requests on the server (RFC 8915 §5): check cookie and authenticator, answer with fresh cookies.
import { AeadId, AES_SIV_TAG_BYTES, type SivAead } from "./aead.ts";
import {
  COOKIE_BYTES,
  COOKIE_NONCE_BYTES,
  type CookieKeyRing,
  type CookieScratch,
  createCookieScratch,
  type NtsSessionKeys,
  openCookie,
  sealCookie,
  wipeOpenedCookie,
} from "./cookie.ts";

/** NTS extension field types (RFC 8915 §5.3-5.6). */
export const NtsField = {
  uniqueIdentifier: 0x0104,
  cookie: 0x0204,
  cookiePlaceholder: 0x0304,
  authenticator: 0x0404,
} as const;

/** Most cookies one reply carries (RFC 8915 §5.7 leaves it to the server; chrony: 8). */
export const MAX_COOKIES_PER_REPLY = 8;
/** Shortest Unique Identifier body (RFC 8915 §5.3: at least 32 octets). */
export const MIN_UNIQUE_IDENTIFIER_BYTES = 32;
/** Nonce + its padding in an authenticator must reach this many bytes (RFC 8915 §5.6). */
const MIN_PADDED_NONCE_BYTES = 16;
/** Nonce length in our replies. */
const REPLY_NONCE_BYTES = 16;

/** What the responder needs to serve NTS, besides the plain context. */
export interface NtsServerContext {
  /** The cookie keys; replaced (never mutated) when the keys rotate. */
  ring: CookieKeyRing;
  /** AES-SIV for the cookie keys (kept apart so their key stays set). */
  readonly cookieAead: SivAead;
  /** AES-SIV for the per-client keys. */
  readonly sessionAead: SivAead;
  /** Fills the array with cryptographically random bytes. */
  readonly randomBytes: (out: Uint8Array) => void;
  /**
   * Writes the transmit timestamp (NTP format) at `out[40..48)`: NTS replies are sealed with
   * it, so it is read before sealing, not just before sending.
   */
  readonly writeTransmitTime: (out: Uint8Array) => void;
  readonly scratch: NtsScratch;
}

/** Buffers reused per request (one set per responder thread). */
export interface NtsScratch {
  readonly cookie: CookieScratch;
  /** Decrypted request extension fields. */
  readonly requestPlaintext: Uint8Array;
  /** The reply's plaintext: the new cookies' extension fields. */
  readonly replyPlaintext: Uint8Array;
  readonly nonce: Uint8Array;
  readonly cookieNonce: Uint8Array;
  readonly openInput: { associated: Uint8Array; nonce: Uint8Array | null; ciphertext: Uint8Array };
  readonly sealInput: { associated: Uint8Array; nonce: Uint8Array | null; plaintext: Uint8Array };
  readonly cookieWhat: { session: NtsSessionKeys; nonce: Uint8Array };
}

/**
 * Scratch buffers for {@link answerNtsRequest}, sized for requests up to `maxRequestBytes`.
 *
 * @example
 * ```ts
 * const scratch = createNtsScratch(2048);
 * ```
 */
export function createNtsScratch(maxRequestBytes: number): NtsScratch {
  const empty = new Uint8Array(0);
  const nonce = new Uint8Array(REPLY_NONCE_BYTES);
  return {
    cookie: createCookieScratch(),
    requestPlaintext: new Uint8Array(maxRequestBytes),
    replyPlaintext: new Uint8Array(MAX_COOKIES_PER_REPLY * (4 + COOKIE_BYTES)),
    nonce,
    cookieNonce: new Uint8Array(COOKIE_NONCE_BYTES),
    openInput: { associated: empty, nonce: null, ciphertext: empty },
    sealInput: { associated: empty, nonce: null, plaintext: empty },
    cookieWhat: {
      session: { aeadId: AeadId.aesSivCmac256, c2s: empty, s2c: empty },
      nonce: new Uint8Array(COOKIE_NONCE_BYTES),
    },
  };
}

/** Where the NTS fields of a request are, found by {@link findNtsFields}. */
export interface NtsFieldLayout {
  /** Offset of the Unique Identifier field, or -1. */
  uniqueIdStart: number;
  /** Its total length (header included). */
  uniqueIdLength: number;
  cookieStart: number;
  cookieLength: number;
  /** Cookies + placeholders outside the authenticator. */
  cookieSlots: number;
  /** Offset of the authenticator field (the last field), or -1. */
  authStart: number;
  /** Set when an NTS field is malformed or misplaced (the request is dropped). */
  malformed: boolean;
  /** Any NTS field present. */
  anyNts: boolean;
}

/**
 * A layout record to be filled by {@link findNtsFields} (reused per request).
 *
 * @example
 * ```ts
 * const layout = createNtsFieldLayout();
 * ```
 */
export function createNtsFieldLayout(): NtsFieldLayout {
  return {
    uniqueIdStart: -1,
    uniqueIdLength: 0,
    cookieStart: -1,
    cookieLength: 0,
    cookieSlots: 0,
    authStart: -1,
    malformed: false,
    anyNts: false,
  };
}

/**
 * Walks the extension fields of a request whose trailer already passed `scanTrailer` (so each
 * field's length is sane) and notes where the NTS fields are. Malformed: a second cookie or
 * Unique Identifier, a Unique Identifier under 32 bytes, placeholders of another length than the
 * cookie, an authenticator that is not the last field, or a MAC after the fields.
 *
 * @example
 * ```ts
 * declare const request: Uint8Array;
 * const layout = createNtsFieldLayout();
 * findNtsFields(request, layout);
 * ```
 */
export function findNtsFields(data: Uint8Array, layout: NtsFieldLayout): void {
  layout.uniqueIdStart = -1;
  layout.uniqueIdLength = 0;
  layout.cookieStart = -1;
  layout.cookieLength = 0;
  layout.cookieSlots = 0;
  layout.authStart = -1;
  layout.malformed = false;
  layout.anyNts = false;
  let placeholderLength = -1;
  let offset = 48;
  const end = data.length;
  while (end - offset > 24) {
    const type = ((data[offset] as number) << 8) | (data[offset + 1] as number);
    const length = ((data[offset + 2] as number) << 8) | (data[offset + 3] as number);
    if (layout.authStart >= 0) {
      layout.malformed = true; // a field after the authenticator
      return;
    }
    switch (type) {
      case NtsField.uniqueIdentifier:
        layout.anyNts = true;
        if (layout.uniqueIdStart >= 0 || length - 4 < MIN_UNIQUE_IDENTIFIER_BYTES) {
          layout.malformed = true;
          return;
        }
        layout.uniqueIdStart = offset;
        layout.uniqueIdLength = length;
        break;
      case NtsField.cookie:
        layout.anyNts = true;
        if (layout.cookieStart >= 0) {
          layout.malformed = true;
          return;
        }
        layout.cookieStart = offset;
        layout.cookieLength = length;
        layout.cookieSlots++;
        break;
      case NtsField.cookiePlaceholder:
        layout.anyNts = true;
        if (placeholderLength >= 0 && placeholderLength !== length) {
          layout.malformed = true;
          return;
        }
        placeholderLength = length;
        layout.cookieSlots++;
        break;
      case NtsField.authenticator:
        layout.anyNts = true;
        layout.authStart = offset;
        break;
    }
    offset += length;
  }
  if (!layout.anyNts) return;
  if (offset !== end) layout.malformed = true; // a MAC after NTS fields
  if (
    placeholderLength >= 0 && layout.cookieStart >= 0 && placeholderLength !== layout.cookieLength
  ) {
    layout.malformed = true;
  }
}

/** Outcomes of {@link answerNtsRequest}; numbers so the hot path allocates nothing. */
export const NtsOutcome = {
  /** A reply was written; its length is in `result.length`. */
  reply: 0,
  /** NTS NAK written (cookie not valid here); its length is in `result.length`. */
  nak: 1,
  /** NTS fields incomplete or malformed: drop. */
  malformed: 2,
  /** The authenticator did not verify: drop (silence, so no one can make us NAK a client). */
  badAuthenticator: 3,
  /** No room for even a cookie-less reply within the request's length: drop. */
  noRoom: 4,
} as const;

/** Mutable result of {@link answerNtsRequest}. */
export interface NtsResult {
  length: number;
  cookiesIssued: number;
}

/**
 * Completes an NTS reply. `out[0..48)` must already hold the plain reply header (its transmit
 * timestamp is written here, just before sealing); this appends the Unique Identifier and the
 * authenticator holding fresh cookies (one per cookie and placeholder, at most 8, fewer when
 * the reply would outgrow the request), padded so that the reply is exactly as long as the
 * request. A cookie the ring cannot open gets an NTS NAK instead: write the NAK header (Kiss
 * code NTSN) into `out[0..48)` and call {@link appendUniqueIdentifier}. `layout` comes from
 * {@link findNtsFields} on the same request and must have `anyNts` set.
 *
 * @example
 * ```ts
 * declare const request: Uint8Array;
 * declare const context: NtsServerContext;
 * declare const out: Uint8Array; // reply header written at 0..48
 * const layout = createNtsFieldLayout();
 * findNtsFields(request, layout);
 * const result = { length: 0, cookiesIssued: 0 };
 * const outcome = answerNtsRequest({ request, layout, context }, out, result);
 * ```
 */
export function answerNtsRequest(
  input: {
    readonly request: Uint8Array;
    readonly layout: NtsFieldLayout;
    readonly context: NtsServerContext;
  },
  out: Uint8Array,
  result: NtsResult,
): number {
  const { request, layout, context } = input;
  result.length = 0;
  result.cookiesIssued = 0;
  if (
    layout.malformed || layout.uniqueIdStart < 0 || layout.cookieStart < 0 || layout.authStart < 0
  ) {
    return NtsOutcome.malformed;
  }
  const scratch = context.scratch;
  try {
    const session = openCookie(
      { ring: context.ring, aead: context.cookieAead, scratch: scratch.cookie },
      request.subarray(layout.cookieStart + 4, layout.cookieStart + layout.cookieLength),
    );
    if (session === null) return NtsOutcome.nak;
    return session.aeadId === AeadId.aesSivCmac256
      ? answerInSession(input, session, out, result)
      : NtsOutcome.nak;
  } finally {
    // Also when the AEAD threw halfway: the client's keys never outlive the answer here.
    wipeOpenedCookie(scratch.cookie);
  }
}

/** The rest of {@link answerNtsRequest} once the cookie opened: check, then seal the reply. */
function answerInSession(
  input: {
    readonly request: Uint8Array;
    readonly layout: NtsFieldLayout;
    readonly context: NtsServerContext;
  },
  session: NtsSessionKeys,
  out: Uint8Array,
  result: NtsResult,
): number {
  const { request, layout, context } = input;
  const scratch = context.scratch;

  // The authenticator: nonce length, ciphertext length, nonce (padded), ciphertext (padded).
  const auth = layout.authStart;
  const authEnd = request.length;
  const nonceLength = ((request[auth + 4] as number) << 8) | (request[auth + 5] as number);
  const ciphertextLength = ((request[auth + 6] as number) << 8) | (request[auth + 7] as number);
  const nonceStart = auth + 8;
  const ciphertextStart = nonceStart + padded(nonceLength);
  if (
    nonceLength < 1 || ciphertextLength < AES_SIV_TAG_BYTES ||
    ciphertextStart + padded(ciphertextLength) > authEnd ||
    padded(nonceLength) < MIN_PADDED_NONCE_BYTES &&
      nonceStart + MIN_PADDED_NONCE_BYTES + padded(ciphertextLength) > authEnd
  ) {
    return NtsOutcome.malformed;
  }
  const open = scratch.openInput;
  open.associated = request.subarray(0, auth);
  open.nonce = request.subarray(nonceStart, nonceStart + nonceLength);
  open.ciphertext = request.subarray(ciphertextStart, ciphertextStart + ciphertextLength);
  const plaintextLength = context.sessionAead.open(session.c2s, open, scratch.requestPlaintext);
  if (plaintextLength < 0) return NtsOutcome.badAuthenticator;

  // Placeholders inside the encrypted part ask for cookies too (same length as the cookie).
  let slots = layout.cookieSlots;
  const inner = scratch.requestPlaintext;
  for (let offset = 0; offset + 4 <= plaintextLength;) {
    const type = ((inner[offset] as number) << 8) | (inner[offset + 1] as number);
    const length = ((inner[offset + 2] as number) << 8) | (inner[offset + 3] as number);
    if (length < 4 || (length & 3) !== 0 || offset + length > plaintextLength) {
      return NtsOutcome.malformed;
    }
    if (type === NtsField.cookiePlaceholder) {
      if (length !== layout.cookieLength) return NtsOutcome.malformed;
      slots++;
    }
    offset += length;
  }
  inner.fill(0, 0, plaintextLength);

  // Fit the reply into the request's length: header, Unique Identifier, authenticator.
  const fixed = 48 + layout.uniqueIdLength + 8 + REPLY_NONCE_BYTES + AES_SIV_TAG_BYTES;
  let cookies = Math.min(slots, MAX_COOKIES_PER_REPLY);
  while (cookies > 0 && fixed + cookies * (4 + COOKIE_BYTES) > request.length) cookies--;
  if (fixed > request.length || out.length < request.length) return NtsOutcome.noRoom;

  const at = appendUniqueIdentifier(request, layout, out);
  const cookieWhat = scratch.cookieWhat;
  cookieWhat.session = session;
  const plaintext = scratch.replyPlaintext;
  for (let i = 0; i < cookies; i++) {
    const base = i * (4 + COOKIE_BYTES);
    plaintext[base] = NtsField.cookie >>> 8;
    plaintext[base + 1] = NtsField.cookie & 0xff;
    plaintext[base + 2] = (4 + COOKIE_BYTES) >>> 8;
    plaintext[base + 3] = (4 + COOKIE_BYTES) & 0xff;
    context.randomBytes(cookieWhat.nonce);
    sealCookie(
      { ring: context.ring, aead: context.cookieAead, scratch: scratch.cookie },
      cookieWhat,
      plaintext,
      base + 4,
    );
  }
  const plaintextBytes = cookies * (4 + COOKIE_BYTES);
  const authLength = request.length - at; // pads the reply to the request's length
  out[at] = NtsField.authenticator >>> 8;
  out[at + 1] = NtsField.authenticator & 0xff;
  out[at + 2] = authLength >>> 8;
  out[at + 3] = authLength & 0xff;
  out[at + 4] = 0;
  out[at + 5] = REPLY_NONCE_BYTES;
  const sealedLength = AES_SIV_TAG_BYTES + plaintextBytes;
  out[at + 6] = sealedLength >>> 8;
  out[at + 7] = sealedLength & 0xff;
  const nonce = scratch.nonce;
  context.randomBytes(nonce);
  out.set(nonce, at + 8);
  const sealedAt = at + 8 + REPLY_NONCE_BYTES;
  out.fill(0, sealedAt + sealedLength, request.length);
  context.writeTransmitTime(out);
  const seal = scratch.sealInput;
  seal.associated = out.subarray(0, at);
  seal.nonce = nonce;
  seal.plaintext = plaintext.subarray(0, plaintextBytes);
  context.sessionAead.seal(session.s2c, seal, out, sealedAt);
  plaintext.fill(0, 0, plaintextBytes);
  result.length = request.length;
  result.cookiesIssued = cookies;
  return NtsOutcome.reply;
}

/**
 * Copies the request's Unique Identifier field to `out[48..)`; returns the end offset.
 *
 * @example
 * ```ts
 * declare const request: Uint8Array;
 * declare const layout: NtsFieldLayout;
 * declare const out: Uint8Array;
 * const length = appendUniqueIdentifier(request, layout, out);
 * ```
 */
export function appendUniqueIdentifier(
  request: Uint8Array,
  layout: NtsFieldLayout,
  out: Uint8Array,
): number {
  const start = layout.uniqueIdStart;
  out.set(request.subarray(start, start + layout.uniqueIdLength), 48);
  return 48 + layout.uniqueIdLength;
}

/**
 * `length` rounded up to a multiple of 4 (extension field bodies and the authenticator's parts
 * are padded so).
 *
 * @example
 * ```ts
 * padded(5); // 8
 * ```
 */
export function padded(length: number): number {
  return (length + 3) & ~3;
}
