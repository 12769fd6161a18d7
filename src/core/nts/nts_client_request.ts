// The client side of NTS-protected NTP (RFC 8915 §5): the request's extension fields, and the reply's check.
import { AES_SIV_TAG_BYTES, type SivAead } from "./aead.ts";
import { NtsField, padded } from "./nts_request.ts";

/** What goes into one NTS request. */
export interface NtsRequestParts {
  /** The 48-byte mode 3 header (its transmit timestamp is authenticated with it). */
  readonly header: Uint8Array;
  /** Unique Identifier, at least 32 random bytes (echoed by the server). */
  readonly uniqueId: Uint8Array;
  /** One cookie from NTS-KE or an earlier reply (each used once). */
  readonly cookie: Uint8Array;
  /** Cookie Placeholders to send (each asks for one more cookie; as long as the cookie). */
  readonly placeholders: number;
  /** The client-to-server key. */
  readonly c2s: Uint8Array;
  /** Nonce for the authenticator (16 random bytes). */
  readonly nonce: Uint8Array;
}

/**
 * Builds an NTS request: header, Unique Identifier, Cookie, Placeholders, then the Authenticator
 * over all of it (no encrypted fields).
 *
 * @example
 * ```ts
 * import type { SivAead } from "./aead.ts";
 * declare const aead: SivAead;
 * declare const parts: NtsRequestParts;
 * const request = buildNtsRequest(parts, aead);
 * ```
 */
export function buildNtsRequest(parts: NtsRequestParts, aead: SivAead): Uint8Array {
  const fields: Uint8Array[] = [
    field(NtsField.uniqueIdentifier, parts.uniqueId),
    field(NtsField.cookie, parts.cookie),
  ];
  for (let i = 0; i < parts.placeholders; i++) {
    fields.push(field(NtsField.cookiePlaceholder, new Uint8Array(parts.cookie.length)));
  }
  const before = concat([parts.header, ...fields]);
  const nonceLength = parts.nonce.length;
  const ciphertextLength = AES_SIV_TAG_BYTES;
  const body = new Uint8Array(4 + padded(nonceLength) + padded(ciphertextLength));
  body[0] = nonceLength >>> 8;
  body[1] = nonceLength & 0xff;
  body[2] = ciphertextLength >>> 8;
  body[3] = ciphertextLength & 0xff;
  body.set(parts.nonce, 4);
  const sealed = new Uint8Array(ciphertextLength);
  aead.seal(
    parts.c2s,
    { associated: before, nonce: parts.nonce, plaintext: new Uint8Array(0) },
    sealed,
    0,
  );
  body.set(sealed, 4 + padded(nonceLength));
  return concat([before, field(NtsField.authenticator, body)]);
}

/** What a verified reply carried. */
export type NtsReplyCheck =
  | { readonly ok: true; readonly cookies: readonly Uint8Array[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks an NTS reply: the Unique Identifier must match, the authenticator (the last field) must
 * verify under the server-to-client key; returns the new cookies it carried. A reply that is an
 * NTS NAK (Kiss code NTSN) is reported as such.
 *
 * @example
 * ```ts
 * import type { SivAead } from "./aead.ts";
 * declare const aead: SivAead;
 * declare const reply: Uint8Array;
 * declare const uniqueId: Uint8Array;
 * declare const s2c: Uint8Array;
 * const check = checkNtsReply(reply, { uniqueId, s2c }, aead);
 * ```
 */
export function checkNtsReply(
  reply: Uint8Array,
  expected: { readonly uniqueId: Uint8Array; readonly s2c: Uint8Array },
  aead: SivAead,
): NtsReplyCheck {
  if (reply.length < 48) return { ok: false, reason: "shorter than an NTP header" };
  let uniqueIdOk = false;
  let authStart = -1;
  let offset = 48;
  while (offset + 4 <= reply.length) {
    const type = ((reply[offset] as number) << 8) | (reply[offset + 1] as number);
    const length = ((reply[offset + 2] as number) << 8) | (reply[offset + 3] as number);
    if (length < 4 || (length & 3) !== 0 || offset + length > reply.length) {
      return { ok: false, reason: "malformed extension field" };
    }
    if (authStart >= 0) return { ok: false, reason: "a field after the authenticator" };
    if (type === NtsField.uniqueIdentifier) {
      uniqueIdOk = equal(reply.subarray(offset + 4, offset + length), expected.uniqueId);
    } else if (type === NtsField.authenticator) authStart = offset;
    offset += length;
  }
  if (offset !== reply.length) return { ok: false, reason: "trailing bytes" };
  if (!uniqueIdOk) return { ok: false, reason: "Unique Identifier missing or different" };
  const kiss = reply[1] === 0 &&
    String.fromCharCode(reply[12]!, reply[13]!, reply[14]!, reply[15]!) === "NTSN";
  if (kiss) return { ok: false, reason: "NTS NAK" };
  if (authStart < 0) return { ok: false, reason: "no authenticator" };
  const nonceLength = ((reply[authStart + 4] as number) << 8) | (reply[authStart + 5] as number);
  const ciphertextLength = ((reply[authStart + 6] as number) << 8) |
    (reply[authStart + 7] as number);
  const nonceStart = authStart + 8;
  const ciphertextStart = nonceStart + padded(nonceLength);
  if (ciphertextStart + ciphertextLength > reply.length || ciphertextLength < AES_SIV_TAG_BYTES) {
    return { ok: false, reason: "authenticator lengths overrun the packet" };
  }
  const plaintext = new Uint8Array(ciphertextLength - AES_SIV_TAG_BYTES);
  const opened = aead.open(expected.s2c, {
    associated: reply.subarray(0, authStart),
    nonce: reply.subarray(nonceStart, nonceStart + nonceLength),
    ciphertext: reply.subarray(ciphertextStart, ciphertextStart + ciphertextLength),
  }, plaintext);
  if (opened < 0) return { ok: false, reason: "authenticator does not verify" };
  const cookies: Uint8Array[] = [];
  for (let at = 0; at + 4 <= opened;) {
    const type = ((plaintext[at] as number) << 8) | (plaintext[at + 1] as number);
    const length = ((plaintext[at + 2] as number) << 8) | (plaintext[at + 3] as number);
    if (length < 4 || at + length > opened) {
      return { ok: false, reason: "malformed encrypted field" };
    }
    if (type === NtsField.cookie) cookies.push(plaintext.slice(at + 4, at + length));
    at += length;
  }
  return { ok: true, cookies };
}

function field(type: number, body: Uint8Array): Uint8Array {
  const length = 4 + padded(body.length);
  const out = new Uint8Array(length);
  out[0] = type >>> 8;
  out[1] = type & 0xff;
  out[2] = length >>> 8;
  out[3] = length & 0xff;
  out.set(body, 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
