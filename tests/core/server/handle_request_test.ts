// Tests of the responder: captured exchanges, every drop rule, restrict flags, rate limiting and counters.
import assert from "node:assert/strict";
import { decodePacket } from "../../../src/core/packet/decode_packet.ts";
import { kissCodeOf } from "../../../src/core/packet/kiss_code.ts";
import { Counter, countersToRecord } from "../../../src/core/server/counters.ts";
import {
  handleRequest,
  type InboundDatagram,
  type ServerContext,
} from "../../../src/core/server/handle_request.ts";
import type { ClientAddress, ServerVerdict } from "../../../src/core/server/types.ts";
import { capturedRequests, clientAt, fromHex, ntpdExchange, ruleFor, toHex } from "../_vectors.ts";
import { makeContext, unsynchronisedSystem } from "./_context.ts";
import { recentClients } from "../../../src/core/control/recent_clients.ts";

const RECEIVE_TIME = { seconds: 0xeeb527e0, fraction: 0xc3c88bfe };
const CLIENT = clientAt("192.0.2.1", 59792);

function datagram(
  data: Uint8Array,
  options: { client?: ClientAddress; at?: number } = {},
): InboundDatagram {
  return {
    data,
    client: options.client ?? CLIENT,
    receiveTime: RECEIVE_TIME,
    monotonicSeconds: options.at ?? 0,
  };
}

function respond(
  context: ServerContext,
  data: Uint8Array,
  options: { client?: ClientAddress; at?: number } = {},
): {
  verdict: ServerVerdict;
  out: Uint8Array;
} {
  const out = new Uint8Array(64).fill(0xa5);
  return { verdict: handleRequest(datagram(data, options), context, out), out };
}

function request(hex: string, change?: (bytes: Uint8Array) => void): Uint8Array {
  const bytes = fromHex(hex);
  change?.(bytes);
  return bytes;
}

function dropReason(verdict: ServerVerdict): string | undefined {
  return verdict.action === "drop" ? verdict.reason : undefined;
}

Deno.test("handleRequest() answers ntpdig's captured request with ntpd's captured reply bytes 0..39", () => {
  const { verdict, out } = respond(makeContext(), fromHex(ntpdExchange.request));
  assert.deepEqual(verdict, {
    action: "reply",
    length: 48,
    kissOfDeath: false,
    transmitWritten: false,
  });
  assert.equal(toHex(out.subarray(0, 40)), ntpdExchange.reply.slice(0, 80));
  assert.equal(toHex(out.subarray(40, 48)), "0000000000000000"); // transmit left for the I/O layer
  assert.equal(out[48], 0xa5); // nothing written past the reply
});

Deno.test("handleRequest() copies a random chrony transmit timestamp to the origin byte for byte", () => {
  for (const hex of [capturedRequests.chronyd1, capturedRequests.chronyd2]) {
    const { out } = respond(makeContext(), fromHex(hex));
    assert.equal(toHex(out.subarray(24, 32)), hex.slice(80, 96));
  }
});

Deno.test("handleRequest() echoes request versions 1 to 4", () => {
  for (const version of [1, 2, 3, 4]) {
    const data = request(capturedRequests.scapy, (b) => (b[0] = (version << 3) | 3));
    const { verdict, out } = respond(makeContext(), data);
    assert.equal(verdict.action, "reply");
    assert.equal(((out[0] as number) >> 3) & 7, version);
    assert.equal((out[0] as number) & 7, 4);
  }
});

Deno.test("handleRequest() drops versions 0 and 5 to 7", () => {
  for (const version of [0, 5, 6, 7]) {
    const data = request(capturedRequests.scapy, (b) => (b[0] = (version << 3) | 3));
    assert.equal(dropReason(respond(makeContext(), data).verdict), "badVersion");
  }
});

Deno.test("handleRequest() never answers mode 7, even from an unrestricted client", () => {
  for (
    const data of [
      new Uint8Array([0x17]),
      request(capturedRequests.scapy, (b) => (b[0] = 0x27)),
      new Uint8Array(200).fill(0x17),
    ]
  ) {
    const { verdict, out } = respond(makeContext(), data);
    assert.equal(dropReason(verdict), "mode7");
    assert.ok(out.every((b) => b === 0xa5));
  }
});

Deno.test("handleRequest() drops modes 0, 1, 2, 4 and 5 as badMode", () => {
  for (const mode of [0, 1, 2, 4, 5]) {
    const data = request(capturedRequests.scapy, (b) => (b[0] = 0x20 | mode));
    assert.equal(dropReason(respond(makeContext(), data).verdict), "badMode");
  }
});

Deno.test("handleRequest() passes mode 6 to the daemon unless noquery or ignore applies", () => {
  const readvar = fromHex("160200010000000000000000"); // ntpq's READVAR header, VN=2
  assert.deepEqual(respond(makeContext(), readvar).verdict, { action: "control" });
  const ntpstat = new Uint8Array(576);
  ntpstat.set(readvar);
  assert.deepEqual(respond(makeContext(), ntpstat).verdict, { action: "control" });
  const noquery = makeContext({ rules: [ruleFor("default4", ["noquery"])] });
  assert.equal(dropReason(respond(noquery, readvar).verdict), "controlDenied");
  const noserve = makeContext({ rules: [ruleFor("default4", ["noserve"])] });
  assert.deepEqual(respond(noserve, readvar).verdict, { action: "control" });
  const ignore = makeContext({ rules: [ruleFor("default4", ["ignore"])] });
  assert.equal(dropReason(respond(ignore, readvar).verdict), "restricted");
  assert.equal(dropReason(respond(makeContext(), readvar.subarray(0, 11)).verdict), "tooShort");
});

Deno.test("handleRequest() drops empty and short mode 3 datagrams as tooShort", () => {
  assert.equal(dropReason(respond(makeContext(), new Uint8Array(0)).verdict), "tooShort");
  const data = fromHex(capturedRequests.ntpdig);
  for (const length of [1, 12, 47]) {
    assert.equal(dropReason(respond(makeContext(), data.subarray(0, length)).verdict), "tooShort");
  }
});

Deno.test("handleRequest() answers requests carrying extension fields or a MAC with 48 bytes", () => {
  const base = fromHex(capturedRequests.ntpdig);
  for (const trailer of [[0, 0x04, 0, 28], [0, 0, 0, 1], [0x01, 0x04, 0, 36]]) {
    const length = trailer[3] === 1 ? 20 : (trailer[3] as number);
    const data = new Uint8Array(48 + length);
    data.set(base);
    if (trailer[3] !== 1) data.set(trailer, 48);
    const { verdict } = respond(makeContext(), data);
    assert.deepEqual(verdict, {
      action: "reply",
      length: 48,
      kissOfDeath: false,
      transmitWritten: false,
    });
  }
});

Deno.test("handleRequest() drops malformed trailers as badLength or malformedExtension", () => {
  const base = fromHex(capturedRequests.ntpdig);
  const withTrailer = (trailer: number[]) => {
    const data = new Uint8Array(48 + trailer.length);
    data.set(base);
    data.set(trailer, 48);
    return data;
  };
  assert.equal(dropReason(respond(makeContext(), withTrailer([1, 2, 3])).verdict), "badLength");
  assert.equal(
    dropReason(respond(makeContext(), withTrailer(new Array(12).fill(0))).verdict),
    "badLength",
  );
  const overrun = new Array(32).fill(0);
  overrun[3] = 64;
  assert.equal(
    dropReason(respond(makeContext(), withTrailer(overrun)).verdict),
    "malformedExtension",
  );
});

Deno.test("handleRequest() drops everything from an ignored client and mode 3 from a noserve client", () => {
  const data = fromHex(capturedRequests.ntpdig);
  const ignore = makeContext({ rules: [ruleFor("192.0.2.0/24", ["ignore"])] });
  assert.equal(dropReason(respond(ignore, data).verdict), "restricted");
  assert.equal(respond(ignore, data, { client: clientAt("198.51.100.1") }).verdict.action, "reply");
  const noserve = makeContext({ rules: [ruleFor("default6", ["noserve"])] });
  assert.equal(
    dropReason(respond(noserve, data, { client: clientAt("2001:db8::1") }).verdict),
    "restricted",
  );
  assert.equal(respond(noserve, data).verdict.action, "reply"); // IPv4 client: no rule
});

Deno.test("handleRequest() records every time request in the client table, limited or not, and only those", () => {
  const clock = { monotonicSeconds: 10, unixSeconds: 1_800_000_000 };
  const context = makeContext({
    rules: [
      ruleFor("192.0.2.0/24", ["kod", "limited"]),
      ruleFor("198.51.100.0/24", ["noserve"]),
      ruleFor("203.0.113.0/24", ["ignore"]),
    ],
  });
  const data = fromHex(capturedRequests.ntpdig);
  for (let i = 0; i < 20; i++) respond(context, data, { at: i / 100 }); // 16 served, 1 KoD, 3 dropped
  respond(context, data, { client: clientAt("10.1.2.3", 4000), at: 1 }); // no rule: served
  respond(context, data, { client: clientAt("198.51.100.9", 4001), at: 2 }); // noserve
  respond(context, data, { client: clientAt("203.0.113.9", 4002), at: 3 }); // ignore: not seen
  respond(context, fromHex(capturedRequests.ntpdig).subarray(0, 20), {
    client: clientAt("10.9.9.9"),
    at: 4,
  }); // too short: not a request
  const clients = recentClients(context.rateTable, { limit: 10, clock });
  assert.deepEqual(
    clients.map((c) => [c.address, c.port, c.packets, c.droppedPackets, c.restrictFlags]),
    [
      ["198.51.100.9", 4001, 1, 1, ["noserve"]],
      ["10.1.2.3", 4000, 1, 0, []],
      ["192.0.2.1", 59792, 20, 4, ["kod", "limited"]],
    ],
  );
});

Deno.test("handleRequest() drops datagrams from source port 0", () => {
  const { verdict } = respond(makeContext(), fromHex(capturedRequests.ntpdig), {
    client: clientAt("192.0.2.1", 0),
  });
  assert.equal(dropReason(verdict), "badPort");
});

Deno.test("handleRequest() sends one RATE KoD to a flooding client with kod, then silence", () => {
  const context = makeContext({ rules: [ruleFor("default4", ["kod", "limited"])] });
  const data = fromHex(capturedRequests.chronyd2);
  const verdicts: ServerVerdict[] = [];
  let kodOut: Uint8Array | undefined;
  for (let i = 0; i < 100; i++) {
    const { verdict, out } = respond(context, data, { at: i / 100 });
    verdicts.push(verdict);
    if (verdict.action === "reply" && verdict.kissOfDeath) kodOut = out;
  }
  const served = verdicts.filter((v) => v.action === "reply" && !v.kissOfDeath).length;
  const kods = verdicts.filter((v) => v.action === "reply" && v.kissOfDeath).length;
  assert.equal(served, 16);
  assert.equal(kods, 1);
  assert.equal(verdicts.filter((v) => dropReason(v) === "rateLimited").length, 83);
  assert.ok(kodOut !== undefined);
  const kod = decodePacket(kodOut.subarray(0, 48));
  assert.equal(kissCodeOf(kod), "RATE");
  assert.equal(kod.leap, 3);
  assert.equal(toHex(kodOut.subarray(24, 48)), capturedRequests.chronyd2.slice(80, 96).repeat(3));
  const counters = countersToRecord(context.counters);
  assert.equal(counters.kodSent, 1);
  assert.equal(counters.served, 16);
  assert.equal(counters.dropRateLimited, 83);
});

Deno.test("handleRequest() rate-limits silently without kod, and not at all without limited", () => {
  const data = fromHex(capturedRequests.ntpdig);
  const limitedOnly = makeContext({ rules: [ruleFor("default4", ["limited"])] });
  const unlimited = makeContext({ rules: [ruleFor("default4", ["kod"])] });
  for (let i = 0; i < 50; i++) {
    const limited = respond(limitedOnly, data, { at: i / 100 }).verdict;
    assert.equal(limited.action === "reply" && limited.kissOfDeath, false);
    assert.equal(respond(unlimited, data, { at: i / 100 }).verdict.action, "reply");
  }
  assert.equal(limitedOnly.counters[Counter.dropRateLimited], 34);
});

Deno.test("handleRequest() clamps the echoed poll to -6..17", () => {
  const poll = (value: number) => {
    const { out } = respond(
      makeContext(),
      request(capturedRequests.ntpdig, (b) => (b[2] = value & 0xff)),
    );
    return ((out[2] as number) << 24) >> 24;
  };
  assert.equal(poll(6), 6);
  assert.equal(poll(-6), -6);
  assert.equal(poll(127), 17);
  assert.equal(poll(-128), -6);
});

Deno.test("handleRequest() advertises an unsynchronised server as leap 3, stratum 16, INIT", () => {
  const context = makeContext({ system: unsynchronisedSystem });
  const { out } = respond(context, fromHex(capturedRequests.ntpdig));
  const reply = decodePacket(out.subarray(0, 48));
  assert.equal(reply.leap, 3);
  assert.equal(reply.stratum, 16);
  assert.equal(reply.referenceId, 0x494e4954);
  assert.equal(reply.precisionLog2, -20);
});

Deno.test("handleRequest() uses a newly published system snapshot at once", () => {
  const context = makeContext();
  const data = fromHex(capturedRequests.ntpdig);
  assert.equal(respond(context, data).out[1], 3);
  context.system = { ...context.system, stratum: 2, rootDelaySeconds: 1 };
  const { out } = respond(context, data);
  assert.equal(out[1], 2);
  assert.equal(toHex(out.subarray(4, 8)), "00010000");
  assert.equal(respond(makeContext({ system: unsynchronisedSystem }), data).out[1], 16);
  assert.equal(respond(context, data).out[1], 2);
});

Deno.test("handleRequest() reads a datagram that is a subarray of a larger receive buffer", () => {
  const buffer = new Uint8Array(1500).fill(0xff);
  buffer.set(fromHex(capturedRequests.chronyd1), 100);
  const { verdict, out } = respond(makeContext(), buffer.subarray(100, 148));
  assert.equal(verdict.action, "reply");
  assert.equal(toHex(out.subarray(24, 32)), capturedRequests.chronyd1.slice(80, 96));
});

Deno.test("handleRequest() throws RangeError when a reply is due and the output buffer is too small", () => {
  const context = makeContext();
  assert.throws(
    () => handleRequest(datagram(fromHex(capturedRequests.ntpdig)), context, new Uint8Array(47)),
    RangeError,
  );
});

Deno.test("handleRequest() counts every datagram once as received and once by outcome", () => {
  const context = makeContext({ rules: [ruleFor("default4", ["kod", "limited", "noquery"])] });
  const inputs = [
    fromHex(capturedRequests.ntpdig),
    new Uint8Array([0x17]),
    fromHex("160200010000000000000000"),
    new Uint8Array([0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    request(capturedRequests.ntpdig, (b) => (b[0] = 0x3b)),
    request(capturedRequests.ntpdig, (b) => (b[0] = 0x24)),
  ];
  for (let i = 0; i < 300; i++) {
    respond(context, inputs[i % inputs.length] as Uint8Array, { at: i / 10 });
  }
  const record = countersToRecord(context.counters);
  // The version counters overlap the outcomes (they count admitted requests again).
  const notOutcomes = ["received", "currentVersion", "olderVersion", "version1"];
  const outcomes = Object.entries(record).filter(([name]) => !notOutcomes.includes(name)).reduce(
    (sum, [, n]) => sum + n,
    0,
  );
  assert.equal(record.received, 300);
  assert.equal(outcomes, 300);
  assert.equal(record.dropMode7, 50);
  assert.equal(record.dropControlDenied, 50);
  assert.equal(record.dropBadVersion, 50);
  assert.equal(record.dropBadMode, 50);
  assert.equal(record.dropTooShort, 50);
  assert.equal(record.served + record.kodSent + record.dropRateLimited, 50);
  assert.deepEqual([record.currentVersion, record.olderVersion], [50, 0]);
});
