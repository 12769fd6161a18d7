// The NTS-KE server's decision on a request (RFC 8915 §4) and the response records it sends.
import {
  encodeKeRecords,
  KeErrorCode,
  type KeRecord,
  KeRecordType,
  NEXT_PROTOCOL_NTPV4,
  uint16Body,
  uint16Values,
} from "./ke_records.ts";

/** What the server answers a request with. */
export type KePlan =
  /** Keys are to be exported for this AEAD and cookies issued. */
  | { readonly kind: "accept"; readonly aeadId: number }
  /** An Error record with this code (RFC 8915 §4.1.3). */
  | { readonly kind: "error"; readonly code: number; readonly reason: string }
  /** The client offered no protocol we speak: an empty Next Protocol record. */
  | { readonly kind: "noProtocol" }
  /** NTPv4 but no AEAD we support: Next Protocol NTPv4 and an empty AEAD record. */
  | { readonly kind: "noAead" };

/**
 * Decides the answer to a request's records. Rules (as RFC 8915 §4 and chrony): exactly one
 * critical Next Protocol record with at least one even-length value; with NTPv4 offered,
 * exactly one AEAD record with at least one value; the first AEAD of `supportedAeads` (the
 * server's order of preference) that the client offers wins; Error, Warning and New Cookie
 * records from a client are a bad request; the client's Server and Port Negotiation records
 * (critical or not) are read and ignored; an unknown critical record is error 0; unknown
 * non-critical records are ignored.
 *
 * @example
 * ```ts
 * import { KeRecordType } from "./ke_records.ts";
 * planKeAnswer([
 *   { critical: true, type: KeRecordType.nextProtocol, body: new Uint8Array([0, 0]) },
 *   { critical: false, type: KeRecordType.aeadAlgorithm, body: new Uint8Array([0, 15]) },
 * ], [15]); // { kind: "accept", aeadId: 15 }
 * ```
 */
export function planKeAnswer(
  records: readonly KeRecord[],
  supportedAeads: readonly number[],
): KePlan {
  let protocolRecords = 0;
  let protocolValues = 0;
  let ntpv4 = false;
  let aeadRecords = 0;
  let aeadValues = 0;
  let aeadId = -1;
  for (const record of records) {
    switch (record.type) {
      case KeRecordType.nextProtocol: {
        const values = uint16Values(record.body);
        if (!record.critical || values === null || values.length === 0) {
          return badRequest("Next Protocol record not critical, empty or of odd length");
        }
        protocolRecords++;
        protocolValues += values.length;
        if (values.includes(NEXT_PROTOCOL_NTPV4)) ntpv4 = true;
        break;
      }
      case KeRecordType.aeadAlgorithm: {
        const values = uint16Values(record.body);
        if (values === null || values.length === 0) {
          return badRequest("AEAD Algorithm record empty or of odd length");
        }
        aeadRecords++;
        aeadValues += values.length;
        // Ours first: the server's order of preference decides among what the client offers.
        if (aeadId < 0) aeadId = supportedAeads.find((value) => values.includes(value)) ?? -1;
        break;
      }
      case KeRecordType.ntpv4Server:
        break; // a client's wish for a server (RFC 8915 §4.1.7): we answer with our own or none
      case KeRecordType.ntpv4Port:
        if (record.body.length !== 2) return badRequest("Port Negotiation record not 2 bytes");
        break; // likewise (§4.1.8): we announce the port we serve on
      case KeRecordType.error:
      case KeRecordType.warning:
      case KeRecordType.newCookie:
        return badRequest(`a client sent a record of type ${record.type}`);
      default:
        if (record.critical) {
          return {
            kind: "error",
            code: KeErrorCode.unrecognizedCriticalRecord,
            reason: `unrecognised critical record type ${record.type}`,
          };
        }
    }
  }
  if (protocolRecords !== 1 || protocolValues < 1) {
    return badRequest(`${protocolRecords} Next Protocol records (one is required)`);
  }
  if (!ntpv4) return { kind: "noProtocol" };
  if (aeadRecords !== 1 || aeadValues < 1) {
    return badRequest(`${aeadRecords} AEAD Algorithm records (one is required with NTPv4)`);
  }
  if (aeadId < 0) return { kind: "noAead" };
  return { kind: "accept", aeadId };
}

function badRequest(reason: string): KePlan {
  return { kind: "error", code: KeErrorCode.badRequest, reason };
}

/** What goes into an accepting response besides the protocol and AEAD. */
export interface KeAcceptance {
  readonly aeadId: number;
  /** The cookies to hand out (8 by custom), each sent as a New Cookie record. */
  readonly cookies: readonly Uint8Array[];
  /** NTPv4 Server Negotiation: the name or address clients send NTP to, when not this host. */
  readonly ntpServer?: string;
  /** NTPv4 Port Negotiation: sent when the NTP port is not 123. */
  readonly ntpPort?: number;
}

/**
 * The response message for a plan (records followed by End of Message). For "accept", pass the
 * cookies and negotiation values in `acceptance`.
 *
 * @throws {RangeError} For "accept" without `acceptance`.
 * @example
 * ```ts
 * encodeKeAnswer({ kind: "noProtocol" }); // Next Protocol with no value, then End of Message
 * ```
 */
export function encodeKeAnswer(plan: KePlan, acceptance?: KeAcceptance): Uint8Array {
  const records: KeRecord[] = [];
  const protocol = (values: number[]) =>
    records.push({ critical: true, type: KeRecordType.nextProtocol, body: uint16Body(values) });
  switch (plan.kind) {
    case "error":
      records.push({ critical: true, type: KeRecordType.error, body: uint16Body([plan.code]) });
      break;
    case "noProtocol":
      protocol([]);
      break;
    case "noAead":
      protocol([NEXT_PROTOCOL_NTPV4]);
      records.push({ critical: true, type: KeRecordType.aeadAlgorithm, body: new Uint8Array(0) });
      break;
    case "accept": {
      if (acceptance === undefined) throw new RangeError("an accepting answer needs its cookies");
      protocol([NEXT_PROTOCOL_NTPV4]);
      records.push({
        critical: true,
        type: KeRecordType.aeadAlgorithm,
        body: uint16Body([acceptance.aeadId]),
      });
      if (acceptance.ntpPort !== undefined && acceptance.ntpPort !== 123) {
        records.push({
          critical: true,
          type: KeRecordType.ntpv4Port,
          body: uint16Body([acceptance.ntpPort]),
        });
      }
      if (acceptance.ntpServer !== undefined) {
        records.push({
          critical: true,
          type: KeRecordType.ntpv4Server,
          body: new TextEncoder().encode(acceptance.ntpServer),
        });
      }
      for (const cookie of acceptance.cookies) {
        records.push({ critical: false, type: KeRecordType.newCookie, body: cookie });
      }
      break;
    }
  }
  return encodeKeRecords(records);
}

/**
 * The RFC 5705 exporter context for one direction's key (RFC 8915 §5.1): the Next Protocol ID,
 * the AEAD ID, then 0 for client-to-server or 1 for server-to-client.
 *
 * @example
 * ```ts
 * exporterContext(15, "c2s"); // Uint8Array [0, 0, 0, 15, 0]
 * ```
 */
export function exporterContext(aeadId: number, direction: "c2s" | "s2c"): Uint8Array {
  return new Uint8Array([
    NEXT_PROTOCOL_NTPV4 >>> 8,
    NEXT_PROTOCOL_NTPV4 & 0xff,
    aeadId >>> 8,
    aeadId & 0xff,
    direction === "c2s" ? 0 : 1,
  ]);
}
