// Simulated upstream NTP servers: stratum, a clock offset (falsetickers), KoD RATE or DENY, unsynchronised spells and death.
import { decodePacket } from "../../../src/core/packet/decode_packet.ts";
import { encodePacket } from "../../../src/core/packet/encode_packet.ts";
import { buildKissOfDeath } from "../../../src/core/packet/kiss_code.ts";
import { NtpMode } from "../../../src/core/packet/ntp_packet.ts";
import { refidFromAscii } from "../../../src/core/packet/refid.ts";
import { shortFromSeconds } from "../../../src/core/time/short_format.ts";
import { ntpAtTrueTime } from "./sim_clock.ts";
import type { SimRandom } from "./random.ts";

/** How a simulated server behaves. */
export interface SimServerOptions {
  /** Its IPv4 address (4 bytes); also the association's address. */
  readonly address: Uint8Array;
  /** Stratum it reports (default 1). */
  readonly stratum?: number;
  /** Its clock minus true time, seconds, constant or a function of true time (default 0). */
  readonly offsetSeconds?: number | ((trueSeconds: number) => number);
  /** Root delay and dispersion it reports, seconds (defaults 0 and 0.0005). */
  readonly rootDelaySeconds?: number;
  readonly rootDispersionSeconds?: number;
  /** Precision it reports, log2 seconds (default -23). */
  readonly precisionLog2?: number;
  /** Time between receive and transmit timestamps, seconds (default 10 us). */
  readonly processingSeconds?: number;
  /** Standard deviation of its timestamp noise, seconds (default 1 us). */
  readonly timestampNoiseSeconds?: number;
  /** From this true time on it stops answering (dies); null = never. */
  readonly dieAtSeconds?: number | null;
  /** From this true time on it answers again; null = never. */
  readonly reviveAtSeconds?: number | null;
  /** Answers a client sending faster than one packet per this many seconds with KoD RATE. */
  readonly rateLimitSeconds?: number | null;
  /** Answers every request with this kiss code (e.g. "DENY"). */
  readonly kissCode?: string | null;
  /** Unix time at true time 0 (the simulated clock's epoch; default 1_800_000_000). */
  readonly epochUnixSeconds?: number;
  /** The leap indicator it announces at a true time (default 0: none). */
  readonly leap?: (trueSeconds: number) => 0 | 1 | 2;
  /** True-time intervals in which it answers LI=3, stratum 16 (unsynchronised). */
  readonly unsynchronised?: readonly { readonly fromSeconds: number; readonly toSeconds: number }[];
}

/** A server's answer: the reply bytes and when they leave, relative to the request's arrival. */
export interface SimReply {
  readonly bytes: Uint8Array;
  readonly holdSeconds: number;
}

/** A simulated server. */
export interface SimServer {
  readonly address: Uint8Array;
  /** Answers a request arriving at true time `trueSeconds`, or null (dead, malformed request). */
  respond(request: Uint8Array, trueSeconds: number): SimReply | null;
  /** Requests received so far (alive or not). */
  readonly requests: number;
  /** RATE kisses sent. */
  readonly kissesSent: number;
}

/**
 * Creates a server.
 *
 * @example
 * ```ts
 * const server = createSimServer({ address: new Uint8Array([10, 0, 0, 1]), stratum: 1 }, createRandom(7));
 * ```
 */
export function createSimServer(options: SimServerOptions, random: SimRandom): SimServer {
  const offsetAt = typeof options.offsetSeconds === "function"
    ? options.offsetSeconds
    : () => (options.offsetSeconds as number | undefined) ?? 0;
  const processing = options.processingSeconds ?? 10e-6;
  const epoch = options.epochUnixSeconds === undefined
    ? {}
    : { epochUnixSeconds: options.epochUnixSeconds };
  const noise = options.timestampNoiseSeconds ?? 1e-6;
  let lastRequestAt = -Infinity;
  let requests = 0;
  let kissesSent = 0;
  const alive = (t: number) => {
    const died = options.dieAtSeconds ?? null;
    const revived = options.reviveAtSeconds ?? null;
    if (died === null || t < died) return true;
    return revived !== null && t >= revived;
  };
  return {
    address: options.address,
    respond(bytes, trueSeconds) {
      requests++;
      if (!alive(trueSeconds)) return null;
      let request;
      try {
        request = decodePacket(bytes);
      } catch {
        return null;
      }
      if (request.mode !== NtpMode.client) return null;
      const tooSoon = options.rateLimitSeconds != null &&
        trueSeconds - lastRequestAt < options.rateLimitSeconds;
      lastRequestAt = trueSeconds;
      if (options.kissCode != null || tooSoon) {
        kissesSent++;
        const kod = buildKissOfDeath(request, {
          code: options.kissCode ?? "RATE",
          minimumPollLog2: 4,
        });
        return { bytes: encodePacket(kod), holdSeconds: processing };
      }
      const offset = offsetAt(trueSeconds);
      const unsynced = (options.unsynchronised ?? []).some((w) =>
        trueSeconds >= w.fromSeconds && trueSeconds < w.toSeconds
      );
      const receiveTime = ntpAtTrueTime(trueSeconds, {
        offsetSeconds: offset + noise * random.normal(),
        ...epoch,
      });
      const transmitTime = ntpAtTrueTime(trueSeconds + processing, {
        offsetSeconds: offset + noise * random.normal(),
        ...epoch,
      });
      const reply = encodePacket({
        leap: unsynced ? 3 : options.leap?.(trueSeconds) ?? 0,
        version: request.version,
        mode: NtpMode.server,
        stratum: unsynced ? 16 : options.stratum ?? 1,
        pollLog2: request.pollLog2,
        precisionLog2: options.precisionLog2 ?? -23,
        rootDelayShort: shortFromSeconds(options.rootDelaySeconds ?? 0),
        rootDispersionShort: shortFromSeconds(options.rootDispersionSeconds ?? 0.0005),
        referenceId: refidFromAscii("GPS"),
        referenceTime: ntpAtTrueTime(Math.max(0, trueSeconds - 8), {
          offsetSeconds: offset,
          ...epoch,
        }),
        originTime: request.transmitTime,
        receiveTime,
        transmitTime,
        extensionFields: [],
        mac: null,
      });
      return { bytes: reply, holdSeconds: processing };
    },
    get requests() {
      return requests;
    },
    get kissesSent() {
      return kissesSent;
    },
  };
}
