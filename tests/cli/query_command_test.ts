// `ntp query`: judging replies (origin check, KoD, unsynchronised), the offset/delay arithmetic, reports and flags.
import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/errors.ts";
import {
  buildQueryReport,
  evaluateReply,
  parseQueryArgs,
  type SampleResult,
} from "../../src/cli/query_command.ts";
import { buildExchangeRequest as buildRequest } from "../../src/core/client/exchange.ts";
import { encodePacket } from "../../src/core/packet/encode_packet.ts";
import type { NtpPacket } from "../../src/core/packet/ntp_packet.ts";
import { refidFromAscii, refidFromIPv4 } from "../../src/core/packet/refid.ts";
import { ntpFromUnix } from "../../src/core/time/ntp_timestamp.ts";

const transmit = Uint8Array.from([0xd1, 0x7a, 0xd1, 0x16, 0xd4, 0x0c, 0xf1, 0x53]);
const request = buildRequest(transmit);
const origin = { seconds: 0xd17ad116, fraction: 0xd40cf153 };
const t1 = ntpFromUnix(1_795_860_837, 0);
const t4 = ntpFromUnix(1_795_860_837, 10_000_000); // 10 ms later

function reply(fields: Partial<NtpPacket> = {}): Uint8Array {
  return encodePacket({
    leap: 0,
    version: 4,
    mode: 4,
    stratum: 2,
    pollLog2: 0,
    precisionLog2: -24,
    rootDelayShort: 0x00000148, // 5 ms
    rootDispersionShort: 0x00000290, // 10 ms
    referenceId: refidFromIPv4(new Uint8Array([10, 123, 0, 1])),
    referenceTime: ntpFromUnix(1_795_860_800, 0),
    originTime: origin,
    // The server is 0.5 s ahead, took 2 ms to answer; the path is 4 ms each way.
    receiveTime: ntpFromUnix(1_795_860_837, 504_000_000),
    transmitTime: ntpFromUnix(1_795_860_837, 506_000_000),
    extensionFields: [],
    mac: null,
    ...fields,
  });
}

Deno.test("buildExchangeRequest() sends version 4 mode 3 with the random transmit timestamp and nothing else", () => {
  assert.equal(request.length, 48);
  assert.equal(request[0], 0x23);
  assert.deepEqual([...request.subarray(40)], [...transmit]);
  assert.ok(request.subarray(1, 40).every((b) => b === 0));
});

Deno.test("evaluateReply() computes offset and delay from the four timestamps", () => {
  const result = evaluateReply({ request, sentAt: t1, reply: reply(), receivedAt: t4 });
  assert.equal(result.kind, "ok");
  if (result.kind !== "ok") return;
  assert.ok(Math.abs(result.offsetSeconds - 0.5) < 1e-9, String(result.offsetSeconds));
  assert.ok(Math.abs(result.delaySeconds - 0.008) < 1e-9, String(result.delaySeconds));
});

Deno.test("evaluateReply() rejects a reply whose origin does not echo our transmit timestamp", () => {
  const result = evaluateReply({
    request,
    sentAt: t1,
    reply: reply({
      originTime: { seconds: origin.seconds, fraction: (origin.fraction ^ 0x5a5a5a5a) >>> 0 },
    }),
    receivedAt: t4,
  });
  assert.equal(result.kind, "invalid");
  assert.match((result as { reason: string }).reason, /origin/);
});

Deno.test("evaluateReply() reports a Kiss-o'-Death by its code, even one without time", () => {
  const kod = reply({ leap: 3, stratum: 0, referenceId: refidFromAscii("RATE") });
  assert.deepEqual(
    evaluateReply({ request, sentAt: t1, reply: kod, receivedAt: t4 }).kind,
    "kissOfDeath",
  );
  const result = evaluateReply({ request, sentAt: t1, reply: kod, receivedAt: t4 }) as {
    code: string;
  };
  assert.equal(result.code, "RATE");
});

Deno.test("evaluateReply() calls leap 3 or stratum 16 unsynchronised, and rejects other modes and junk", () => {
  const judge = (bytes: Uint8Array | null) =>
    evaluateReply({ request, sentAt: t1, reply: bytes, receivedAt: t4 }).kind;
  assert.equal(judge(reply({ leap: 3 })), "unsynchronised");
  assert.equal(judge(reply({ stratum: 16 })), "unsynchronised");
  assert.equal(judge(reply({ mode: 3 })), "invalid");
  assert.equal(judge(reply({ transmitTime: { seconds: 0, fraction: 0 } })), "invalid");
  assert.equal(judge(new Uint8Array(20)), "invalid");
  assert.equal(judge(null), "noAnswer");
});

Deno.test("buildQueryReport() prints the best sample by delay and the server's details", () => {
  const packet = {
    leap: 0,
    version: 4,
    stratum: 2,
    precisionLog2: -24,
    rootDelayShort: 0x148,
    rootDispersionShort: 0x290,
    referenceId: 0x0a7b0001,
  } as NtpPacket;
  const samples: SampleResult[] = [
    { kind: "ok", offsetSeconds: 0.000123, delaySeconds: 0.0004, packet },
    { kind: "noAnswer" },
    { kind: "ok", offsetSeconds: -0.000021, delaySeconds: 0.0001, packet },
  ];
  const report = buildQueryReport({ host: "localhost", address: "127.0.0.1", port: 123 }, samples, {
    timeoutSeconds: 2,
  });
  assert.equal(report.exitCode, 0);
  assert.deepEqual(report.stdout, [
    "sample 1: offset +0.000123 s, delay 0.000400 s",
    "sample 2: no answer from 127.0.0.1:123 within 2 s",
    "sample 3: offset -0.000021 s, delay 0.000100 s",
    "server 127.0.0.1:123, stratum 2, refid 10.123.0.1, leap no-leap, version 4, precision 2^-24 s",
    "offset -0.000021 s, delay 0.000100 s, root distance 0.012562 s (best of 2 by delay)",
  ]);
  assert.equal(report.json.offsetSeconds, -0.000021);
  assert.equal(report.json.ok, true);
});

Deno.test("buildQueryReport() fails with the reason: KoD code, unsynchronised, no answer", () => {
  const kod: SampleResult = { kind: "kissOfDeath", code: "RATE", packet: {} as NtpPacket };
  const report = buildQueryReport({ host: "h", address: "::1", port: 4123 }, [kod], {
    timeoutSeconds: 2,
  });
  assert.equal(report.exitCode, 1);
  assert.deepEqual(report.stderr, [
    "ntp query: [::1]:4123 sent a Kiss-o'-Death: RATE (Rate exceeded.)",
  ]);
  assert.equal(report.json.kissCode, "RATE");
  const none = buildQueryReport({ host: "h", address: "192.0.2.1", port: 123 }, [{
    kind: "noAnswer",
  }], { timeoutSeconds: 0.5 });
  assert.deepEqual(none.stderr, ["ntp query: no answer from 192.0.2.1:123 within 0.5 s"]);
});

Deno.test("parseQueryArgs() reads HOST[:PORT], --samples, --json, --timeout and rejects the rest", () => {
  assert.deepEqual(
    parseQueryArgs(["127.0.0.1:4123", "--samples", "3", "--json", "--timeout=0.5"]),
    {
      host: "127.0.0.1",
      port: 4123,
      samples: 3,
      json: true,
      timeoutSeconds: 0.5,
      nts: null,
    },
  );
  assert.deepEqual(parseQueryArgs(["[::1]"]).port, 123);
  assert.deepEqual(parseQueryArgs(["h", "--nts"]).nts, { caFile: null, port: 4460 });
  assert.deepEqual(
    parseQueryArgs(["h", "--nts", "--nts-ca", "/ca.pem", "--nts-port", "4461"]).nts,
    {
      caFile: "/ca.pem",
      port: 4461,
    },
  );
  assert.throws(() => parseQueryArgs(["h", "--nts-ca", "/ca.pem"]), UsageError);
  assert.throws(() => parseQueryArgs(["h", "--nts", "--nts-port", "0"]), UsageError);
  for (
    const bad of [[], ["--samples", "0", "h"], ["--samples", "x", "h"], ["a", "b"], [
      "--bogus",
      "h",
    ], ["h", "--timeout", "0"]]
  ) {
    assert.throws(() => parseQueryArgs(bad), UsageError, bad.join(" "));
  }
});
