// The NTS-KE client's request and its reading of the server's answer (RFC 8915 §4).
import {
  encodeKeRecords,
  type KeRecord,
  KeRecordType,
  NEXT_PROTOCOL_NTPV4,
  uint16Body,
  uint16Values,
} from "./ke_records.ts";

/**
 * The request: Next Protocol NTPv4 and the AEADs offered, both critical.
 *
 * @example
 * ```ts
 * encodeKeRequest([15]).length; // 16
 * ```
 */
export function encodeKeRequest(aeads: readonly number[]): Uint8Array {
  return encodeKeRecords([
    { critical: true, type: KeRecordType.nextProtocol, body: uint16Body([NEXT_PROTOCOL_NTPV4]) },
    { critical: true, type: KeRecordType.aeadAlgorithm, body: uint16Body(aeads) },
  ]);
}

/** What the server handed out, or why not. */
export type KeAnswer =
  | {
    readonly ok: true;
    readonly aeadId: number;
    readonly cookies: readonly Uint8Array[];
    /** NTPv4 Server Negotiation: send NTP there instead of the KE host. */
    readonly ntpServer?: string;
    /** NTPv4 Port Negotiation: send NTP to this port instead of 123. */
    readonly ntpPort?: number;
  }
  | { readonly ok: false; readonly reason: string };

const errorNames: Readonly<Record<number, string>> = {
  0: "unrecognized critical record",
  1: "bad request",
  2: "internal server error",
};

/**
 * Reads the server's records. Refused: an Error record, no NTPv4, an AEAD not offered, an
 * unknown critical record, or no cookie.
 *
 * @example
 * ```ts
 * readKeAnswer([], [15]); // { ok: false, reason: "no Next Protocol record" }
 * ```
 */
export function readKeAnswer(records: readonly KeRecord[], offered: readonly number[]): KeAnswer {
  let protocol: number[] | null = null;
  let aead: number[] | null = null;
  const cookies: Uint8Array[] = [];
  let ntpServer: string | undefined;
  let ntpPort: number | undefined;
  for (const record of records) {
    switch (record.type) {
      case KeRecordType.error: {
        const code = uint16Values(record.body)?.[0];
        return {
          ok: false,
          reason: `the server refused: error ${code ?? "?"}${
            code === undefined ? "" : ` (${errorNames[code] ?? "unknown"})`
          }`,
        };
      }
      case KeRecordType.warning:
        break;
      case KeRecordType.nextProtocol:
        protocol = uint16Values(record.body);
        break;
      case KeRecordType.aeadAlgorithm:
        aead = uint16Values(record.body);
        break;
      case KeRecordType.newCookie:
        cookies.push(record.body.slice());
        break;
      case KeRecordType.ntpv4Server:
        ntpServer = new TextDecoder().decode(record.body);
        break;
      case KeRecordType.ntpv4Port: {
        const port = uint16Values(record.body);
        if (port === null || port.length !== 1) {
          return { ok: false, reason: "malformed Port record" };
        }
        ntpPort = port[0];
        break;
      }
      default:
        if (record.critical) {
          return { ok: false, reason: `unrecognised critical record type ${record.type}` };
        }
    }
  }
  if (protocol === null) return { ok: false, reason: "no Next Protocol record" };
  if (protocol.length !== 1 || protocol[0] !== NEXT_PROTOCOL_NTPV4) {
    return { ok: false, reason: "the server does not offer NTPv4" };
  }
  if (aead === null || aead.length !== 1 || !offered.includes(aead[0]!)) {
    return { ok: false, reason: "the server chose no AEAD we offered" };
  }
  if (cookies.length === 0) return { ok: false, reason: "the server sent no cookie" };
  return {
    ok: true,
    aeadId: aead[0]!,
    cookies,
    ...(ntpServer === undefined ? {} : { ntpServer }),
    ...(ntpPort === undefined ? {} : { ntpPort }),
  };
}
