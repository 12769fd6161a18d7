// Sends raw NTP datagrams from the test process (node:dgram) and collects what comes back: readiness probes and silence checks.
import dgram from "node:dgram";
import { probeRaw } from "./clients.ts";

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const ntpEpochOffsetSeconds = 2208988800;

/** The current time of day as a 64-bit NTP timestamp (era 0). */
export function ntpNow(): bigint {
  const ms = Date.now();
  const seconds = BigInt(Math.floor(ms / 1000) + ntpEpochOffsetSeconds);
  const fraction = (BigInt(ms % 1000) << 32n) / 1000n;
  return (seconds << 32n) | fraction;
}

/** Options for {@link clientRequest}. */
export interface ClientRequestOptions {
  /** NTP version, 1..4 (default 4). */
  readonly version?: number;
  /** Transmit timestamp (default: now). */
  readonly transmit?: bigint;
}

/** A 48-byte mode 3 (client) request: LI=0, the given version, all zero except the transmit timestamp. */
export function clientRequest(options: ClientRequestOptions = {}): Uint8Array {
  const bytes = new Uint8Array(48);
  bytes[0] = ((options.version ?? 4) << 3) | 3;
  new DataView(bytes.buffer).setBigUint64(40, options.transmit ?? ntpNow());
  return bytes;
}

/** Where to send a datagram from the test process. */
export interface UdpTarget {
  readonly host: string;
  readonly port: number;
  /** When set, the datagram is sent from inside this network namespace (by our Python probe). */
  readonly netns?: string;
}

/** Sends `datagram` to host:port and returns every reply that arrives within `waitMs` (default 1000). */
export async function exchange(
  target: UdpTarget,
  datagram: Uint8Array,
  options: { readonly waitMs?: number } = {},
): Promise<Uint8Array[]> {
  const waitMs = options.waitMs ?? 1000;
  if (target.netns !== undefined) {
    const { repliesHex } = await probeRaw(
      { host: target.host, port: target.port, netns: target.netns },
      toHex(datagram),
      { waitSeconds: waitMs / 1000 },
    );
    return repliesHex.map(fromHex);
  }
  const socket = dgram.createSocket(target.host.includes(":") ? "udp6" : "udp4");
  const replies: Uint8Array[] = [];
  socket.on("message", (message: Uint8Array) => replies.push(new Uint8Array(message)));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.send(datagram, target.port, target.host, (error) => error ? reject(error) : resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  return replies;
}

/** True when a mode 3 request to the target gets any reply within `waitMs` (default 300). */
export async function udpAnswers(
  target: UdpTarget,
  options: { readonly waitMs?: number } = {},
): Promise<boolean> {
  try {
    const replies = await exchange(target, clientRequest(), { waitMs: options.waitMs ?? 300 });
    return replies.length > 0;
  } catch {
    return false;
  }
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string. */
export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
