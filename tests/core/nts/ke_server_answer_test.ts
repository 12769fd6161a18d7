// The NTS-KE server's decisions (RFC 8915 §4.1) and the response it encodes.
import assert from "node:assert/strict";
import {
  encodeKeAnswer,
  exporterContext,
  planKeAnswer,
} from "../../../src/core/nts/ke_server_answer.ts";
import {
  KeErrorCode,
  KeRecordType,
  readKeMessage,
  uint16Body,
} from "../../../src/core/nts/ke_records.ts";

const protocol = (values: number[], critical = true) => ({
  critical,
  type: KeRecordType.nextProtocol,
  body: uint16Body(values),
});
const aead = (values: number[]) => ({
  critical: false,
  type: KeRecordType.aeadAlgorithm,
  body: uint16Body(values),
});

Deno.test("planKeAnswer() accepts NTPv4 with the first offered AEAD this server supports", () => {
  assert.deepEqual(planKeAnswer([protocol([0]), aead([30, 15])], [15]), {
    kind: "accept",
    aeadId: 15,
  });
  assert.deepEqual(planKeAnswer([protocol([7, 0]), aead([15])], [15]), {
    kind: "accept",
    aeadId: 15,
  });
});

Deno.test("planKeAnswer() answers no protocol / no AEAD with empty records, as RFC 8915 asks", () => {
  assert.deepEqual(planKeAnswer([protocol([7])], [15]), { kind: "noProtocol" });
  assert.deepEqual(planKeAnswer([protocol([0]), aead([30])], [15]), { kind: "noAead" });
});

Deno.test("planKeAnswer() calls a bad request what RFC 8915 and chrony do", () => {
  const bad = (records: Parameters<typeof planKeAnswer>[0]) => {
    const plan = planKeAnswer(records, [15]);
    assert.equal(plan.kind, "error");
    if (plan.kind === "error") assert.equal(plan.code, KeErrorCode.badRequest);
  };
  bad([]); // no Next Protocol
  bad([protocol([0], false), aead([15])]); // not critical
  bad([protocol([0]), protocol([0]), aead([15])]); // twice
  bad([protocol([0])]); // NTPv4 without AEAD
  bad([protocol([0]), aead([15]), aead([15])]);
  bad([protocol([0]), aead([15]), {
    critical: false,
    type: KeRecordType.newCookie,
    body: new Uint8Array(8),
  }]);
  bad([protocol([0]), aead([15]), {
    critical: true,
    type: KeRecordType.error,
    body: uint16Body([0]),
  }]);
  bad([{ critical: true, type: KeRecordType.nextProtocol, body: new Uint8Array(3) }, aead([15])]);
});

Deno.test("planKeAnswer() reads a client's critical Server and Port Negotiation records and goes on (RFC 8915 §4.1.7-8)", () => {
  const server = {
    critical: true,
    type: KeRecordType.ntpv4Server,
    body: new TextEncoder().encode("a.example"),
  };
  const port = { critical: true, type: KeRecordType.ntpv4Port, body: uint16Body([123]) };
  assert.deepEqual(planKeAnswer([protocol([0]), aead([15]), server, port], [15]), {
    kind: "accept",
    aeadId: 15,
  });
  const badPort = { critical: true, type: KeRecordType.ntpv4Port, body: new Uint8Array(3) };
  assert.equal(planKeAnswer([protocol([0]), aead([15]), badPort], [15]).kind, "error");
});

Deno.test("planKeAnswer() picks by the server's preference among what the client offers", () => {
  assert.deepEqual(planKeAnswer([protocol([0]), aead([15, 30])], [30, 15]), {
    kind: "accept",
    aeadId: 30,
  });
});

Deno.test("planKeAnswer() refuses an unknown critical record (error 0) and ignores an unknown non-critical one", () => {
  const plan = planKeAnswer([protocol([0]), aead([15]), {
    critical: true,
    type: 999,
    body: new Uint8Array(0),
  }], [15]);
  assert.equal(plan.kind, "error");
  if (plan.kind === "error") assert.equal(plan.code, KeErrorCode.unrecognizedCriticalRecord);
  assert.equal(
    planKeAnswer([protocol([0]), aead([15]), {
      critical: false,
      type: 999,
      body: new Uint8Array(4),
    }], [15]).kind,
    "accept",
  );
});

Deno.test("encodeKeAnswer() sends protocol, AEAD, port (when not 123) and the cookies, then End of Message", () => {
  const cookies = [new Uint8Array(104).fill(1), new Uint8Array(104).fill(2)];
  const bytes = encodeKeAnswer({ kind: "accept", aeadId: 15 }, {
    aeadId: 15,
    cookies,
    ntpPort: 12323,
  });
  const read = readKeMessage(bytes, { maxMessageBytes: 65536, maxRecordBodyBytes: 65535 });
  assert.equal(read.status, "complete");
  if (read.status !== "complete") return;
  assert.deepEqual(read.records.map((r) => [r.critical, r.type]), [
    [true, KeRecordType.nextProtocol],
    [true, KeRecordType.aeadAlgorithm],
    [true, KeRecordType.ntpv4Port],
    [false, KeRecordType.newCookie],
    [false, KeRecordType.newCookie],
  ]);
  assert.deepEqual([...read.records[2]!.body], [0x30, 0x23]);
  const plain = encodeKeAnswer({ kind: "accept", aeadId: 15 }, {
    aeadId: 15,
    cookies,
    ntpPort: 123,
  });
  assert.equal(plain.length, bytes.length - 6, "no port record for 123");
  const error = encodeKeAnswer({ kind: "error", code: 1, reason: "x" });
  assert.deepEqual([...error], [0x80, 2, 0, 2, 0, 1, 0x80, 0, 0, 0]);
});

Deno.test("exporterContext() is protocol id, AEAD id, then 0 (C2S) or 1 (S2C)", () => {
  assert.deepEqual([...exporterContext(15, "c2s")], [0, 0, 0, 15, 0]);
  assert.deepEqual([...exporterContext(15, "s2c")], [0, 0, 0, 15, 1]);
});
