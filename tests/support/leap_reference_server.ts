// A stratum 1 reference server whose clock is shifted to just before a leap second, in-process: it announces the leap (LI) until it happens, then repeats the last second (an insertion) and clears LI, as a real server with its kernel's STA_INS does.
import { encodePacket } from "../../src/core/packet/encode_packet.ts";
import { decodePacket } from "../../src/core/packet/decode_packet.ts";
import { NtpMode } from "../../src/core/packet/ntp_packet.ts";
import { refidFromAscii } from "../../src/core/packet/refid.ts";
import { ntpFromUnix } from "../../src/core/time/ntp_timestamp.ts";
import { shortFromSeconds } from "../../src/core/time/short_format.ts";
import { readRealtime } from "../../src/io/clock_realtime.ts";
import { openUpstreamSocket, type UpstreamSocket } from "../../src/io/udp_client.ts";

/** Options of {@link startLeapReference}. */
export interface LeapReferenceOptions {
  readonly address: string;
  readonly port: number;
  /** The leap: Unix seconds of the midnight UTC it happens at. */
  readonly leapUnixSeconds: number;
  /** How many seconds from now the reference's clock reaches the leap. */
  readonly secondsBeforeLeap: number;
  /** LI to announce before the leap: 1 (insert), or 0 for a reference that does not announce. */
  readonly announce: 0 | 1;
  /** Whether its clock repeats the last second at the leap (default: when it announces). */
  readonly leaps?: boolean;
}

/** A running reference; dispose it to close its socket. */
export interface LeapReference extends AsyncDisposable {
  /** The reference's (unleaped) time minus the host's, seconds. */
  readonly shiftSeconds: number;
}

function hostSeconds(reading: { unixSeconds: number; nanoseconds: number }): number {
  return reading.unixSeconds + reading.nanoseconds * 1e-9;
}

/**
 * Starts the reference on `address`:`port`. Its time is the host's plus a shift that brings it
 * to `leapUnixSeconds` after `secondsBeforeLeap`; at that moment (with `leaps`) it goes back
 * one second and announces nothing more.
 */
export async function startLeapReference(options: LeapReferenceOptions): Promise<LeapReference> {
  const shiftSeconds = options.leapUnixSeconds - options.secondsBeforeLeap -
    hostSeconds(readRealtime());
  const timeAt = (reading: { unixSeconds: number; nanoseconds: number }) => {
    const t = hostSeconds(reading) + shiftSeconds;
    const leaped = (options.leaps ?? options.announce === 1) && t >= options.leapUnixSeconds;
    return { seconds: leaped ? t - 1 : t, leap: (leaped ? 0 : options.announce) as 0 | 1 };
  };
  const toNtp = (seconds: number) => {
    const whole = Math.floor(seconds);
    return ntpFromUnix(whole, (seconds - whole) * 1e9);
  };
  const opened: { socket?: UpstreamSocket } = {};
  opened.socket = await openUpstreamSocket({
    family: 4,
    bindAddress: options.address,
    port: options.port,
    onDatagram: (datagram) => {
      let request;
      try {
        request = decodePacket(datagram.data);
      } catch {
        return;
      }
      if (request.mode !== NtpMode.client) return;
      const received = timeAt(datagram.receiveKernel);
      const sent = timeAt(readRealtime());
      const reply = encodePacket({
        leap: sent.leap,
        version: request.version,
        mode: NtpMode.server,
        stratum: 1,
        pollLog2: request.pollLog2,
        precisionLog2: -20,
        rootDelayShort: 0,
        rootDispersionShort: shortFromSeconds(0.0001),
        referenceId: refidFromAscii("GPS"),
        referenceTime: toNtp(sent.seconds - 1),
        originTime: request.transmitTime,
        receiveTime: toNtp(received.seconds),
        transmitTime: toNtp(sent.seconds),
        extensionFields: [],
        mac: null,
      });
      opened.socket?.send(reply, datagram.from);
    },
  });
  return {
    shiftSeconds,
    async [Symbol.asyncDispose]() {
      await opened.socket?.close();
    },
  };
}
