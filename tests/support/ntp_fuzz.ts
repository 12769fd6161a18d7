// Fuzzes a running NTP server over UDP: seeded random and mutated datagrams, an independent validity oracle, and per-class reply accounting.
import dgram from "node:dgram";
import { ntpNow } from "./udp_probe.ts";

/** How the oracle classifies a datagram; `valid*` classes may be answered, `invalid*` never. */
export type InputClass =
  | "validMode3"
  | "validMode6"
  | "invalidShort"
  | "invalidVersion"
  | "invalidMode"
  | "invalidTrailer"
  | "invalidMode6Response";

/** Every {@link InputClass}, in report order. */
export const inputClasses: readonly InputClass[] = [
  "validMode3",
  "validMode6",
  "invalidShort",
  "invalidVersion",
  "invalidMode",
  "invalidTrailer",
  "invalidMode6Response",
];

/**
 * The pure validity rules, written independently of the server: an NTP request is valid when it has
 * version 1..4 and either mode 3, at least 48 bytes and a trailer of RFC 7822 extension fields and/or
 * a MAC (while more than 24 bytes remain the next item is an extension field of length >= 16, a
 * multiple of 4, inside the datagram; the rest is empty or a 4-, 20- or 24-byte MAC), or mode 6, at
 * least the 12-byte control header, and the response, error and more bits clear (a request).
 */
export function classifyDatagram(bytes: Uint8Array): InputClass {
  if (bytes.length === 0) return "invalidShort";
  const first = bytes[0]!;
  const version = (first >> 3) & 7;
  const mode = first & 7;
  if (mode !== 3 && mode !== 6) return "invalidMode";
  if (version < 1 || version > 4) return "invalidVersion";
  if (mode === 6) {
    if (bytes.length < 12) return "invalidShort";
    return (bytes[1]! & 0xe0) === 0 ? "validMode6" : "invalidMode6Response";
  }
  if (bytes.length < 48) return "invalidShort";
  return trailerIsValid(bytes) ? "validMode3" : "invalidTrailer";
}

function trailerIsValid(bytes: Uint8Array): boolean {
  if ((bytes.length - 48) % 4 !== 0) return false;
  let offset = 48;
  while (bytes.length - offset > 24) {
    const fieldLength = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    if (fieldLength < 16 || fieldLength % 4 !== 0 || fieldLength > bytes.length - offset) {
      return false;
    }
    offset += fieldLength;
  }
  const rest = bytes.length - offset;
  return rest === 0 || rest === 4 || rest === 20 || rest === 24;
}

/** A small seeded PRNG (mulberry32), so a failing campaign can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function controlRequest(
  first: number,
  opcode: number,
  assoc: number,
  data: string,
  padTo = 0,
): Uint8Array {
  const text = new TextEncoder().encode(data);
  const length = Math.max(padTo, 12 + text.length + ((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(length);
  out[0] = first;
  out[1] = opcode;
  out[3] = 1;
  out[6] = assoc >> 8;
  out[7] = assoc & 0xff;
  out[10] = text.length >> 8;
  out[11] = text.length & 0xff;
  out.set(text, 12);
  return out;
}

/** The real requests the fuzz corpus starts from (the captures in tests/core/_vectors.ts). */
export function seedDatagrams(): Uint8Array[] {
  const zeros40 = new Uint8Array(40);
  const header = (prefix: string) => concat(hex(prefix), zeros40.subarray(hex(prefix).length));
  const xmt = new Uint8Array(8);
  const uniqueId = concat(hex("01040024"), new Uint8Array(32).fill(0xa5)); // 36-byte extension field
  return [
    concat(header("e3000000"), xmt), // ntpdig
    concat(header("e30004fa0001000000010000"), xmt), // check_ntp_time
    concat(header("23000620"), xmt), // chronyd (random transmit)
    concat(header("23000000"), xmt), // scapy / plain SNTP
    concat(header("1b000000"), xmt), // version 3
    concat(header("0b000000"), xmt), // version 1
    concat(header("23000620"), xmt, uniqueId), // one extension field
    concat(header("23000620"), xmt, new Uint8Array(20)), // key id + MD5-sized MAC
    concat(header("23000620"), xmt, new Uint8Array(24)), // key id + SHA-1-sized MAC
    concat(header("23000620"), xmt, new Uint8Array(4)), // crypto-NAK
    controlRequest(0xd6, 2, 0, ""), // ntpq rv
    controlRequest(0x16, 2, 0, "", 576), // ntpstat
    controlRequest(0x16, 1, 0, ""), // check_ntp_peer READSTAT
    controlRequest(0x16, 2, 17767, "stratum,offset,jitter"), // check_ntp_peer READVAR
    controlRequest(0xd6, 12, 0, ""), // ntpq mrulist: REQ_NONCE
    controlRequest(0xd6, 10, 0, "nonce=0123456789abcdef01234567, frags=32"), // READ_MRU
    controlRequest(0xd6, 2, 0, "stratum,offset"), // ntpq rv 0 stratum,offset
  ];
}

/** Generates datagram number `index` of a campaign: a seed, mutated 0..4 times, or pure random bytes. */
export function generateDatagram(random: () => number, seeds: readonly Uint8Array[]): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  if (random() < 0.08) {
    const out = new Uint8Array(int(600));
    for (let i = 0; i < out.length; i++) out[i] = int(256);
    return out;
  }
  let out: Uint8Array = seeds[int(seeds.length)]!.slice();
  if (out.length >= 48 && (out[0]! & 7) !== 6) {
    new DataView(out.buffer).setBigUint64(40, ntpNow() + BigInt(int(0x7fffffff)));
  }
  const mutations = random() < 0.25 ? 0 : 1 + int(4);
  for (let m = 0; m < mutations; m++) out = mutate(out, random);
  return out;
}

function mutate(input: Uint8Array, random: () => number): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  const out = input;
  switch (int(9)) {
    case 0: // flip one bit
      if (out.length > 0) out[int(out.length)]! ^= 1 << int(8);
      return out;
    case 1: // set one byte to a random or boundary value
      if (out.length > 0) out[int(out.length)] = [0, 0xff, 0x80, 0x7f, int(256)][int(5)]!;
      return out;
    case 2: // first byte: any LI, version and mode
      if (out.length > 0) out[0] = int(256);
      return out;
    case 3: // truncate
      return out.slice(0, int(out.length + 1));
    case 4: // append random bytes
      return concat(out, Uint8Array.from({ length: 1 + int(64) }, () => int(256)));
    case 5: { // append an extension field, valid or with a bad length
      const length = [16, 28, 32, 64, 12, 17, 30, 0, 4096][int(9)]!;
      const field = new Uint8Array(Math.min(Math.max(length, 4), 128));
      field[0] = int(256);
      field[1] = int(256);
      field[2] = length >> 8;
      field[3] = length & 0xff;
      return concat(out, field);
    }
    case 6: // mode 6: random count field (may overrun the datagram)
      if (out.length >= 12) {
        out[10] = int(256) & 0x03;
        out[11] = int(256);
      }
      return out;
    case 7: // mode 6: random opcode, with or without the R/E/M bits
      if (out.length >= 2) out[1] = random() < 0.8 ? int(32) : int(256);
      return out;
    default: // truncate to just below or at a boundary
      return out.slice(0, [0, 1, 11, 12, 13, 47, 48, 49, 52, 68, 72][int(11)]!);
  }
}

/** Per-class counts of a campaign. */
export interface ClassReport {
  readonly sent: number;
  /** Inputs of this class that got at least one reply. */
  readonly answered: number;
  /** Reply datagrams received for this class. */
  readonly replies: number;
}

/** The outcome of {@link fuzzServer}. */
export interface FuzzReport {
  readonly seed: number;
  readonly perClass: Readonly<Record<InputClass, ClassReport>>;
  /** Largest mode 6 reply datagram seen, bytes (mode 6 replies may exceed their request, see below). */
  readonly largestControlReply: number;
  /** Every rule broken, one line each (capped at 50 lines). */
  readonly problems: readonly string[];
  /** Number of problems found in total (the list is capped). */
  readonly problemCount: number;
}

/** Options for {@link fuzzServer}. */
export interface FuzzOptions {
  /** Number of datagrams to send. */
  readonly packets: number;
  /** PRNG seed (printed in the report for replay). */
  readonly seed: number;
  /** Datagrams sent before waiting for replies to settle (default 200). */
  readonly batchSize?: number;
}

interface Sent {
  /** Index of the datagram in the campaign. */
  readonly id: number;
  readonly length: number;
  readonly version: number;
  readonly hex: string;
}

/**
 * Sends `packets` generated datagrams to host:port (IPv4 loopback) from one socket per input class,
 * pacing in batches so replies are not lost, and checks every reply:
 * - no class marked invalid gets any reply;
 * - a reply to a mode 3 input is a 48-byte-or-shorter mode 4 packet no larger than its request,
 *   echoes the request's version, and has as origin the transmit timestamp of a request sent from
 *   that socket;
 * - a reply to a mode 6 input is a mode 6 response (R bit set) echoing the sequence number of a
 *   request sent from that socket, and fits one 12 + 468-byte fragment plus padding and a MAC.
 * Mode 6 is exempt from "no larger than its request" for well-formed requests from an address allowed
 * to query: ntpq's 12-byte READVAR legitimately gets a longer answer.
 */
export async function fuzzServer(
  target: { readonly host: string; readonly port: number },
  options: FuzzOptions,
): Promise<FuzzReport> {
  const random = seededRandom(options.seed);
  const seeds = seedDatagrams();
  const batchSize = options.batchSize ?? 200;
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (text: string) => {
    problemCount++;
    if (problems.length < 50) problems.push(text);
  };
  const counts = new Map<InputClass, { sent: number; answered: Set<number>; replies: number }>();
  const sockets = new Map<InputClass, dgram.Socket>();
  const byTransmit = new Map<InputClass, Map<bigint, Sent>>();
  const bySequence = new Map<InputClass, Map<number, Sent>>();
  let largestControlReply = 0;
  let sequence = 0;

  const onReply = (inputClass: InputClass, reply: Uint8Array) => {
    const entry = counts.get(inputClass)!;
    entry.replies++;
    const replyHex = toHex(reply.subarray(0, 64));
    if (inputClass.startsWith("invalid")) {
      problem(`${inputClass}: got a ${reply.length}-byte reply ${replyHex}`);
      return;
    }
    const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    if (inputClass === "validMode3") {
      const request = reply.length >= 48
        ? byTransmit.get(inputClass)!.get(view.getBigUint64(24))
        : undefined;
      if (request === undefined) {
        problem(`validMode3: reply ${replyHex} does not echo any request's transmit timestamp`);
        return;
      }
      entry.answered.add(request.id);
      if (reply.length > request.length) {
        problem(
          `validMode3: ${reply.length}-byte reply to a ${request.length}-byte request ${request.hex}`,
        );
      }
      if ((reply[0]! & 7) !== 4) {
        problem(`validMode3: reply mode ${reply[0]! & 7}, not 4: ${replyHex}`);
      }
      if (((reply[0]! >> 3) & 7) !== request.version) {
        problem(
          `validMode3: reply version ${
            (reply[0]! >> 3) & 7
          } to a version ${request.version} request`,
        );
      }
      return;
    }
    const request = reply.length >= 12
      ? bySequence.get(inputClass)!.get(view.getUint16(2))
      : undefined;
    if (request === undefined) {
      problem(`validMode6: reply ${replyHex} echoes no request's sequence number`);
      return;
    }
    entry.answered.add(request.id);
    largestControlReply = Math.max(largestControlReply, reply.length);
    if ((reply[0]! & 7) !== 6 || (reply[1]! & 0x80) === 0) {
      problem(`validMode6: reply is not a mode 6 response: ${replyHex}`);
    }
    if (reply.length > 12 + 468 + 3 + 24) {
      problem(`validMode6: ${reply.length}-byte reply datagram exceeds one fragment`);
    }
  };

  try {
    for (const inputClass of inputClasses) {
      counts.set(inputClass, { sent: 0, answered: new Set(), replies: 0 });
      byTransmit.set(inputClass, new Map());
      bySequence.set(inputClass, new Map());
      const socket = dgram.createSocket("udp4");
      socket.on("message", (message: Uint8Array) => onReply(inputClass, new Uint8Array(message)));
      await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
      sockets.set(inputClass, socket);
    }
    for (let start = 0; start < options.packets; start += batchSize) {
      const sends: Promise<void>[] = [];
      for (let i = start; i < Math.min(options.packets, start + batchSize); i++) {
        const datagram = generateDatagram(random, seeds);
        const inputClass = classifyDatagram(datagram);
        const control = inputClass === "validMode6" || inputClass === "invalidMode6Response";
        const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
        if (control) {
          // Replies are matched by sequence number: give every control request its own.
          sequence = (sequence + 1) & 0xffff;
          view.setUint16(2, sequence);
        } else if (
          datagram.length >= 48 && byTransmit.get(inputClass)!.has(view.getBigUint64(40))
        ) {
          // Replies are matched by origin: a transmit timestamp already sent from this class (e.g.
          // zeros from a mutated mode 6 seed) is replaced by a unique one.
          view.setBigUint64(40, 0xf000000000000000n + BigInt(i));
        }
        const sent: Sent = {
          id: i,
          length: datagram.length,
          version: (datagram[0]! >> 3) & 7,
          hex: toHex(datagram),
        };
        if (control) bySequence.get(inputClass)!.set(sequence, sent);
        else if (datagram.length >= 48) {
          byTransmit.get(inputClass)!.set(view.getBigUint64(40), sent);
        }
        counts.get(inputClass)!.sent++;
        const socket = sockets.get(inputClass)!;
        sends.push(
          new Promise<void>((resolve, reject) =>
            socket.send(
              datagram,
              target.port,
              target.host,
              (error) => error ? reject(error) : resolve(),
            )
          ),
        );
      }
      await Promise.all(sends);
      await settle(counts);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await Promise.all(
      [...sockets.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }
  const perClass = Object.fromEntries(
    inputClasses.map((c) => {
      const entry = counts.get(c)!;
      return [c, { sent: entry.sent, answered: entry.answered.size, replies: entry.replies }];
    }),
  ) as Record<InputClass, ClassReport>;
  return { seed: options.seed, perClass, largestControlReply, problems, problemCount };
}

/** Waits until no reply has arrived for 5 ms (at most 100 ms). */
async function settle(counts: Map<InputClass, { replies: number }>): Promise<void> {
  const total = () => [...counts.values()].reduce((n, c) => n + c.replies, 0);
  let last = -1;
  for (let waited = 0; waited < 100; waited += 5) {
    const now = total();
    if (now === last) return;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
