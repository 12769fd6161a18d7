// The responder hot path: one datagram in, a verdict out (reply or KoD written to a buffer, control, drop).
import { scanTrailer, TrailerStatus } from "../packet/extension_fields.ts";
import { KISS_RATE_REFID, writeKissOfDeath } from "../packet/kiss_code.ts";
import {
  answerNtsRequest,
  appendUniqueIdentifier,
  createNtsFieldLayout,
  findNtsFields,
  NtsOutcome,
  type NtsServerContext,
} from "../nts/nts_request.ts";
import { NTP_HEADER_LENGTH } from "../packet/ntp_packet.ts";
import { shortFromSeconds } from "../time/short_format.ts";
import { MAX_POLL_LOG2, MIN_POLL_LOG2 } from "../time/poll.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import { Counter } from "./counters.ts";
import {
  chargeClient,
  findClient,
  noteRequest,
  RateDecision,
  type RateTable,
} from "./rate_limit.ts";
import { type CompiledRestrict, lookupRestrict, RestrictBit } from "./restrict.ts";
import type { ClientAddress, DropReason, ServerVerdict, SystemSnapshot } from "./types.ts";

/** One received datagram as the I/O layer hands it over. */
export interface InboundDatagram {
  /** The UDP payload (only these bytes; may be a subarray of a larger receive buffer). */
  readonly data: Uint8Array;
  readonly client: ClientAddress;
  /** When the datagram arrived (kernel timestamp when available), in NTP form. */
  readonly receiveTime: NtpTimestamp;
  /** Monotonic clock reading at arrival, seconds (for rate limiting only; never on the wire). */
  readonly monotonicSeconds: number;
}

/**
 * What the responder needs besides the datagram. When the daemon publishes new system state,
 * assign a new `system` object; never mutate the old one in place (replies cache its encoding
 * by object identity).
 */
export interface ServerContext {
  system: SystemSnapshot;
  /** Replaced when the daemon reloads its restrict rules. */
  restrict: CompiledRestrict;
  /** Replaced (same memory, new policy: {@link retuneRateTable}) when the rate limits reload. */
  rateTable: RateTable;
  /**
   * From createCounters(); this call increments `received`, exactly one outcome counter and, for
   * a time request that passed the access rules, one version counter.
   */
  readonly counters: Float64Array;
  /**
   * Present when this server serves NTS (RFC 8915) and has its cookie keys; without it NTS
   * fields are ignored (a plain reply, which an NTS client discards).
   */
  nts?: NtsServerContext;
}

/** Length of every reply handleRequest writes. */
export const REPLY_LENGTH = NTP_HEADER_LENGTH;

const REPLY: ServerVerdict = Object.freeze({
  action: "reply",
  length: REPLY_LENGTH,
  kissOfDeath: false,
  transmitWritten: false,
});
const KISS_OF_DEATH: ServerVerdict = Object.freeze({
  action: "reply",
  length: REPLY_LENGTH,
  kissOfDeath: true,
  transmitWritten: true,
});
/** NTS replies and NAKs vary in length: one mutable verdict each, read before the next call. */
const ntsReply = { action: "reply" as const, length: 0, kissOfDeath: false, transmitWritten: true };
const ntsNak = { action: "reply" as const, length: 0, kissOfDeath: true, transmitWritten: true };
const ntsLayout = createNtsFieldLayout();
const ntsResult = { length: 0, cookiesIssued: 0 };
/** Kiss code NTSN ("NTS NAK", RFC 8915 §5.7) as a refid. */
const KISS_NTS_NAK_REFID = 0x4e54534e;
const CONTROL: ServerVerdict = Object.freeze({ action: "control" });

function dropVerdict(reason: DropReason): ServerVerdict {
  return Object.freeze({ action: "drop", reason });
}
const DROP_TOO_SHORT = dropVerdict("tooShort");
const DROP_BAD_LENGTH = dropVerdict("badLength");
const DROP_BAD_VERSION = dropVerdict("badVersion");
const DROP_BAD_MODE = dropVerdict("badMode");
const DROP_MODE7 = dropVerdict("mode7");
const DROP_RESTRICTED = dropVerdict("restricted");
const DROP_RATE_LIMITED = dropVerdict("rateLimited");
const DROP_MALFORMED_EXTENSION = dropVerdict("malformedExtension");
const DROP_CONTROL_DENIED = dropVerdict("controlDenied");
const DROP_BAD_PORT = dropVerdict("badPort");
const DROP_NTS_MALFORMED = dropVerdict("ntsMalformed");
const DROP_NTS_BAD_AUTHENTICATOR = dropVerdict("ntsBadAuthenticator");

/** Smallest mode 6 message: the 12-byte control header. */
const CONTROL_HEADER_LENGTH = 12;

/**
 * Bytes 0..23 of a reply that depend only on the system snapshot (byte 0 holds just the leap
 * bits, byte 2 is unused), re-encoded when the context's snapshot object changes.
 */
const systemTemplate = new Uint8Array(24);
let templateSource: SystemSnapshot | null = null;

function encodeSystemTemplate(system: SystemSnapshot): void {
  const t = systemTemplate;
  t[0] = (system.leap & 3) << 6;
  const stratum = system.stratum;
  t[1] = Number.isInteger(stratum) && stratum >= 1 && stratum <= 16 ? stratum : 16;
  t[2] = 0;
  t[3] = system.precisionLog2 & 0xff;
  writeWord(t, 4, shortFromSeconds(system.rootDelaySeconds));
  writeWord(t, 8, shortFromSeconds(system.rootDispersionSeconds));
  writeWord(t, 12, system.referenceId);
  writeWord(t, 16, system.referenceTime.seconds);
  writeWord(t, 20, system.referenceTime.fraction);
  templateSource = system;
}

function writeWord(bytes: Uint8Array, offset: number, word: number): void {
  bytes[offset] = word >>> 24;
  bytes[offset + 1] = (word >>> 16) & 0xff;
  bytes[offset + 2] = (word >>> 8) & 0xff;
  bytes[offset + 3] = word & 0xff;
}

function checkOutput(out: Uint8Array): void {
  if (out.length < REPLY_LENGTH) {
    throw new RangeError(
      `handleRequest needs an output buffer of ${REPLY_LENGTH} bytes, got ${out.length}`,
    );
  }
}

/**
 * Decides what to do with one datagram and, for a reply, writes it into `out[0..48)`. Works on
 * the bytes without decoding them and allocates nothing. Rules, in order:
 * 1. empty datagram: drop `tooShort`; mode 7 (ntpdc): always dropped `mode7`; source port 0:
 *    `badPort`;
 * 2. restrict `ignore`: `restricted` (for every mode);
 * 3. version not 1..4: `badVersion`;
 * 4. mode 6: shorter than 12 bytes `tooShort`; `noquery` -> `controlDenied`; else `control`
 *    (the daemon answers it);
 * 5. any mode but 3: `badMode`; shorter than 48 bytes: `tooShort`; bytes after the header
 *    not a valid sequence of extension fields and/or a MAC: `badLength` / `malformedExtension`;
 * 6. from here on every request is recorded in the client table (ntpq's mrulist: port, times,
 *    counts, version and mode, restrict flags, drops); `noserve`: `restricted`; past that, the
 *    request is counted by version (`currentVersion` for 4, `olderVersion` for 1..3: ntpq's
 *    sysstats "current version" / "older version"); `limited`: the rate table decides; a
 *    limited client gets a RATE Kiss-o'-Death (at most one per 2^averageLog2 s, only with
 *    `kod`) or nothing (`rateLimited`);
 * 7. otherwise a 48-byte mode 4 reply: leap, stratum, precision, root delay and dispersion,
 *    refid and reference time from `context.system`; the request's version; its poll clamped
 *    to -6..17; origin = the request's transmit timestamp, byte for byte (never checked);
 *    receive = `datagram.receiveTime`; transmit (bytes 40..47) zero, for the I/O layer to
 *    fill just before sending. Extension fields and MACs are never echoed, so a reply is
 *    never longer than its request.
 *
 * @param out Output buffer of at least 48 bytes (reused across calls).
 * @throws {RangeError} Only if a reply is due and `out` is shorter than 48 bytes (a programming error).
 * @example
 * ```ts
 * import type { ServerContext } from "./handle_request.ts";
 * import type { ClientAddress } from "./types.ts";
 * import { type NtpTimestamp, writeUnixAsNtp } from "../time/ntp_timestamp.ts";
 * declare const context: ServerContext;
 * declare const data: Uint8Array;
 * declare const client: ClientAddress;
 * declare const receiveTime: NtpTimestamp;
 * declare const monotonicSeconds: number;
 * declare const txSeconds: number; // the clock just before sending
 * declare const txNanoseconds: number;
 * declare function send(bytes: Uint8Array): void;
 * const out = new Uint8Array(REPLY_LENGTH);
 * const outView = new DataView(out.buffer);
 * const verdict = handleRequest({ data, client, receiveTime, monotonicSeconds }, context, out);
 * if (verdict.action === "reply") {
 *   if (!verdict.kissOfDeath) writeUnixAsNtp(outView, 40, txSeconds, txNanoseconds);
 *   send(out.subarray(0, verdict.length));
 * }
 * ```
 */
export function handleRequest(
  datagram: InboundDatagram,
  context: ServerContext,
  out: Uint8Array,
): ServerVerdict {
  const counters = context.counters;
  increment(counters, Counter.received);
  const data = datagram.data;
  const length = data.length;
  if (length === 0) return count(counters, DROP_TOO_SHORT, Counter.dropTooShort);
  const first = data[0] as number;
  const mode = first & 7;
  if (mode === 7) return count(counters, DROP_MODE7, Counter.dropMode7);
  const client = datagram.client;
  if (client.port === 0) return count(counters, DROP_BAD_PORT, Counter.dropBadPort);
  const flags = lookupRestrict(context.restrict, client);
  if ((flags & RestrictBit.ignore) !== 0) {
    return count(counters, DROP_RESTRICTED, Counter.dropRestricted);
  }
  const version = (first >>> 3) & 7;
  if (version === 0 || version > 4) {
    return count(counters, DROP_BAD_VERSION, Counter.dropBadVersion);
  }
  if (mode === 6) {
    if (length < CONTROL_HEADER_LENGTH) {
      return count(counters, DROP_TOO_SHORT, Counter.dropTooShort);
    }
    if ((flags & RestrictBit.noquery) !== 0) {
      return count(counters, DROP_CONTROL_DENIED, Counter.dropControlDenied);
    }
    increment(counters, Counter.control);
    return CONTROL;
  }
  if (mode !== 3) return count(counters, DROP_BAD_MODE, Counter.dropBadMode);
  if (length < NTP_HEADER_LENGTH) return count(counters, DROP_TOO_SHORT, Counter.dropTooShort);
  if (length > NTP_HEADER_LENGTH) {
    const status = scanTrailer(data, NTP_HEADER_LENGTH);
    if (status === TrailerStatus.badLength) {
      return count(counters, DROP_BAD_LENGTH, Counter.dropBadLength);
    }
    if (status === TrailerStatus.malformedExtension) {
      return count(counters, DROP_MALFORMED_EXTENSION, Counter.dropMalformedExtension);
    }
  }
  // Every well-formed time request is recorded for the monitor (ntpq -c mrulist), as ntpd does.
  const table = context.rateTable;
  const now = datagram.monotonicSeconds;
  const entry = findClient(table, client, now);
  if ((flags & RestrictBit.noserve) !== 0) {
    noteRequest(table, entry, now, client.port, first, flags, true);
    return count(counters, DROP_RESTRICTED, Counter.dropRestricted);
  }
  // ntpd counts versions in receive() after the access checks (ignore, noserve) and before rate
  // limiting, for every time packet (modes 1..5; mode 6 and 7 go elsewhere first). We take part
  // in no mode but 3, so only mode 3 requests are counted: any other mode is junk here, already
  // dropped as badMode. Hence current + older = served + kodSent + dropRateLimited, plus with
  // NTS ntsNakSent + dropNtsMalformed + dropNtsBadAuthenticator. ntpd also
  // counts requests whose extension fields or MAC are malformed; those were dropped above.
  increment(counters, version === 4 ? Counter.currentVersion : Counter.olderVersion);
  if (version === 1) increment(counters, Counter.version1);
  if ((flags & RestrictBit.limited) !== 0) {
    const decision = chargeClient(table, entry, now);
    if (decision !== RateDecision.allow) {
      noteRequest(table, entry, now, client.port, first, flags, true);
      if (decision === RateDecision.kissOfDeath && (flags & RestrictBit.kod) !== 0) {
        checkOutput(out);
        writeKissOfDeath(data, out, {
          refid: KISS_RATE_REFID,
          minimumPollLog2: table.policy.averageLog2,
        });
        increment(counters, Counter.kodSent);
        return KISS_OF_DEATH;
      }
      return count(counters, DROP_RATE_LIMITED, Counter.dropRateLimited);
    }
  }
  const nts = context.nts;
  if (nts !== undefined && length > NTP_HEADER_LENGTH) {
    findNtsFields(data, ntsLayout);
    if (ntsLayout.anyNts) return answerNts(datagram, context, { nts, out, entry, flags });
  }
  noteRequest(table, entry, now, client.port, first, flags, false);
  checkOutput(out);
  writeReply(data, datagram.receiveTime, context.system, out);
  increment(counters, Counter.served);
  return REPLY;
}

/** The NTS part of {@link handleRequest}: authenticated reply, NAK, or drop. */
function answerNts(
  datagram: InboundDatagram,
  context: ServerContext,
  more: {
    nts: NtsServerContext;
    out: Uint8Array;
    entry: ReturnType<typeof findClient>;
    flags: number;
  },
): ServerVerdict {
  const { nts, out, entry, flags } = more;
  const data = datagram.data;
  const counters = context.counters;
  const now = datagram.monotonicSeconds;
  const port = datagram.client.port;
  const first = data[0] as number;
  if (out.length < data.length) {
    return count(counters, DROP_NTS_MALFORMED, Counter.dropNtsMalformed);
  }
  writeReply(data, datagram.receiveTime, context.system, out);
  const outcome = answerNtsRequest(
    { request: data, layout: ntsLayout, context: nts },
    out,
    ntsResult,
  );
  if (outcome === NtsOutcome.reply) {
    noteRequest(context.rateTable, entry, now, port, first, flags, false);
    increment(counters, Counter.served);
    increment(counters, Counter.ntsServed);
    counters[Counter.ntsCookiesIssued] = (counters[Counter.ntsCookiesIssued] as number) +
      ntsResult.cookiesIssued;
    ntsReply.length = ntsResult.length;
    return ntsReply;
  }
  noteRequest(context.rateTable, entry, now, port, first, flags, true);
  if (outcome === NtsOutcome.nak) {
    writeKissOfDeath(data, out, { refid: KISS_NTS_NAK_REFID, minimumPollLog2: MIN_POLL_LOG2 });
    ntsNak.length = appendUniqueIdentifier(data, ntsLayout, out);
    increment(counters, Counter.ntsNakSent);
    return ntsNak;
  }
  if (outcome === NtsOutcome.badAuthenticator) {
    return count(counters, DROP_NTS_BAD_AUTHENTICATOR, Counter.dropNtsBadAuthenticator);
  }
  return count(counters, DROP_NTS_MALFORMED, Counter.dropNtsMalformed);
}

function increment(counters: Float64Array, counter: number): void {
  counters[counter] = (counters[counter] as number) + 1;
}

function count(counters: Float64Array, verdict: ServerVerdict, counter: number): ServerVerdict {
  increment(counters, counter);
  return verdict;
}

function writeReply(
  request: Uint8Array,
  receiveTime: NtpTimestamp,
  system: SystemSnapshot,
  out: Uint8Array,
): void {
  if (system !== templateSource) encodeSystemTemplate(system);
  const t = systemTemplate;
  out[0] = (t[0] as number) | ((request[0] as number) & 0x38) | 4;
  out[1] = t[1] as number;
  let pollLog2 = ((request[2] as number) << 24) >> 24;
  if (pollLog2 < MIN_POLL_LOG2) pollLog2 = MIN_POLL_LOG2;
  else if (pollLog2 > MAX_POLL_LOG2) pollLog2 = MAX_POLL_LOG2;
  out[2] = pollLog2 & 0xff;
  for (let i = 3; i < 24; i++) out[i] = t[i] as number;
  for (let i = 0; i < 8; i++) out[24 + i] = request[40 + i] as number;
  writeWord(out, 32, receiveTime.seconds);
  writeWord(out, 36, receiveTime.fraction);
  for (let i = 40; i < 48; i++) out[i] = 0;
}
