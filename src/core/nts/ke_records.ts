// NTS-KE records (RFC 8915 §4): reading a message from a byte stream and writing one.

/** Record types of RFC 8915 §4 (IANA "Network Time Security Key Establishment Record Types"). */
export const KeRecordType = {
  endOfMessage: 0,
  nextProtocol: 1,
  error: 2,
  warning: 3,
  aeadAlgorithm: 4,
  newCookie: 5,
  ntpv4Server: 6,
  ntpv4Port: 7,
} as const;

/** Error codes of the Error record (RFC 8915 §4.1.3). */
export const KeErrorCode = {
  unrecognizedCriticalRecord: 0,
  badRequest: 1,
  internalServerError: 2,
} as const;

/** Next Protocol ID of NTPv4 (RFC 8915 §7.7). */
export const NEXT_PROTOCOL_NTPV4 = 0;

/** The TLS ALPN protocol name NTS-KE runs under. */
export const NTS_KE_ALPN = "ntske/1";

/** The RFC 5705 exporter label for the NTS keys. */
export const NTS_EXPORTER_LABEL = "EXPORTER-network-time-security";

/** The well-known NTS-KE TCP port. */
export const NTS_KE_PORT = 4460;

/** One record: the critical bit, the 15-bit type and the body. */
export interface KeRecord {
  readonly critical: boolean;
  readonly type: number;
  readonly body: Uint8Array;
}

/** What {@link readKeMessage} found in the bytes received so far. */
export type KeMessageRead =
  /** No End of Message record yet: wait for more bytes (when allowed by the limit). */
  | { readonly status: "incomplete" }
  /** A whole message: its records (End of Message excluded) and how many bytes it took. */
  | { readonly status: "complete"; readonly records: readonly KeRecord[]; readonly length: number }
  /** More than `maxMessageBytes` without an End of Message, or a record body over the limit. */
  | { readonly status: "tooLong" }
  /** An End of Message record with a body, or without its critical bit. */
  | { readonly status: "malformed"; readonly reason: string };

/** Limits for {@link readKeMessage}. */
export interface KeReadLimits {
  /** Longest message accepted, bytes, headers included. */
  readonly maxMessageBytes: number;
  /** Longest record body accepted, bytes. */
  readonly maxRecordBodyBytes: number;
}

/**
 * Reads one NTS-KE message from the start of `bytes` (everything received on the connection so
 * far). Record bodies are views into `bytes`.
 *
 * @example
 * ```ts
 * const message = encodeKeRecords([
 *   { critical: true, type: KeRecordType.nextProtocol, body: new Uint8Array([0, 0]) },
 * ]);
 * const read = readKeMessage(message, { maxMessageBytes: 1024, maxRecordBodyBytes: 256 });
 * read.status; // "complete"
 * ```
 */
export function readKeMessage(bytes: Uint8Array, limits: KeReadLimits): KeMessageRead {
  const records: KeRecord[] = [];
  let offset = 0;
  while (offset + 4 <= bytes.length) {
    const word = ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
    const bodyLength = ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number);
    const critical = (word & 0x8000) !== 0;
    const type = word & 0x7fff;
    if (bodyLength > limits.maxRecordBodyBytes) return { status: "tooLong" };
    const end = offset + 4 + bodyLength;
    if (end > limits.maxMessageBytes) return { status: "tooLong" };
    if (end > bytes.length) break;
    if (type === KeRecordType.endOfMessage) {
      if (bodyLength !== 0) {
        return { status: "malformed", reason: "End of Message record with a body" };
      }
      if (!critical) {
        return { status: "malformed", reason: "End of Message record without the critical bit" };
      }
      return { status: "complete", records, length: end };
    }
    records.push({ critical, type, body: bytes.subarray(offset + 4, end) });
    offset = end;
  }
  if (bytes.length >= limits.maxMessageBytes) return { status: "tooLong" };
  return { status: "incomplete" };
}

/**
 * Encodes records followed by an End of Message record.
 *
 * @throws {RangeError} When a body is longer than 65535 bytes or a type outside 0..32767.
 * @example
 * ```ts
 * encodeKeRecords([]); // Uint8Array [0x80, 0, 0, 0]
 * ```
 */
export function encodeKeRecords(records: readonly KeRecord[]): Uint8Array {
  let total = 4;
  for (const record of records) {
    if (record.body.length > 0xffff) throw new RangeError("NTS-KE record body over 65535 bytes");
    if (!Number.isInteger(record.type) || record.type < 0 || record.type > 0x7fff) {
      throw new RangeError(`NTS-KE record type ${record.type} outside 0..32767`);
    }
    total += 4 + record.body.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const record of records) {
    const word = (record.critical ? 0x8000 : 0) | record.type;
    out[offset] = word >>> 8;
    out[offset + 1] = word & 0xff;
    out[offset + 2] = record.body.length >>> 8;
    out[offset + 3] = record.body.length & 0xff;
    out.set(record.body, offset + 4);
    offset += 4 + record.body.length;
  }
  out[offset] = 0x80;
  return out;
}

/**
 * The body of a record holding 16-bit numbers (Next Protocol, AEAD Algorithm, Error, Warning,
 * Port): big-endian words.
 *
 * @example
 * ```ts
 * uint16Body([0, 15]); // Uint8Array [0, 0, 0, 15]
 * ```
 */
export function uint16Body(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((value, index) => {
    out[index * 2] = (value >>> 8) & 0xff;
    out[index * 2 + 1] = value & 0xff;
  });
  return out;
}

/**
 * Reads a body of big-endian 16-bit numbers; null when its length is odd.
 *
 * @example
 * ```ts
 * uint16Values(new Uint8Array([0, 15])); // [15]
 * ```
 */
export function uint16Values(body: Uint8Array): number[] | null {
  if ((body.length & 1) !== 0) return null;
  const values: number[] = [];
  for (let i = 0; i < body.length; i += 2) {
    values.push(((body[i] as number) << 8) | (body[i + 1] as number));
  }
  return values;
}
