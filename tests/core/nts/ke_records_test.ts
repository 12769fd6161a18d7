// NTS-KE records (RFC 8915 §4): encoding, reading from a stream in pieces, and the limits.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeKeRecords,
  type KeRecord,
  KeRecordType,
  readKeMessage,
  uint16Body,
  uint16Values,
} from "../../../src/core/nts/ke_records.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const limits = { maxMessageBytes: 4096, maxRecordBodyBytes: 1024 };

Deno.test("encodeKeRecords() writes RFC 8915's request of chrony: Next Protocol 0, AEAD 15, End of Message", () => {
  const bytes = encodeKeRecords([
    { critical: true, type: KeRecordType.nextProtocol, body: uint16Body([0]) },
    { critical: true, type: KeRecordType.aeadAlgorithm, body: uint16Body([15]) },
  ]);
  assert.deepEqual(
    [...bytes],
    [0x80, 1, 0, 2, 0, 0, 0x80, 4, 0, 2, 0, 15, 0x80, 0, 0, 0],
  );
});

Deno.test("readKeMessage() waits for the End of Message record, then returns the records and the length", () => {
  const message = encodeKeRecords([
    { critical: false, type: KeRecordType.newCookie, body: new Uint8Array(100).fill(7) },
  ]);
  for (let cut = 0; cut < message.length; cut++) {
    assert.deepEqual(readKeMessage(message.subarray(0, cut), limits), { status: "incomplete" });
  }
  const read = readKeMessage(message, limits);
  assert.equal(read.status, "complete");
  if (read.status !== "complete") return;
  assert.equal(read.length, message.length);
  assert.equal(read.records.length, 1);
  assert.equal(read.records[0]!.body.length, 100);
});

Deno.test("readKeMessage() refuses a body over the limit, a message over the limit, and a bad End of Message", () => {
  const long = encodeKeRecords([{ critical: false, type: 9, body: new Uint8Array(2000) }]);
  assert.deepEqual(readKeMessage(long.subarray(0, 8), limits), { status: "tooLong" });
  const many = encodeKeRecords(
    Array.from({ length: 10 }, () => ({ critical: false, type: 9, body: new Uint8Array(500) })),
  );
  assert.deepEqual(readKeMessage(many, limits), { status: "tooLong" });
  assert.equal(readKeMessage(new Uint8Array([0, 0, 0, 0]), limits).status, "malformed");
  assert.equal(readKeMessage(new Uint8Array([0x80, 0, 0, 1, 0]), limits).status, "malformed");
});

Deno.test("property: encoded records read back identical", () => {
  const record = fc.record({
    critical: fc.boolean(),
    type: fc.integer({ min: 1, max: 0x7fff }),
    body: fc.uint8Array({ maxLength: 64 }),
  });
  fc.assert(
    fc.property(fc.array(record, { maxLength: 20 }), (records: KeRecord[]) => {
      const read = readKeMessage(encodeKeRecords(records), limits);
      assert.equal(read.status, "complete");
      if (read.status !== "complete") return;
      assert.deepEqual(
        read.records.map((r) => ({ ...r, body: [...r.body] })),
        records.map((r) => ({ ...r, body: [...r.body] })),
      );
    }),
  );
});

Deno.test("property: random byte streams never throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      readKeMessage(bytes, { maxMessageBytes: 200, maxRecordBodyBytes: 64 });
    }),
    { numRuns: propertyRuns(5000) },
  );
});

Deno.test("uint16Values() reads big-endian words and refuses odd lengths", () => {
  assert.deepEqual(uint16Values(new Uint8Array([0, 15, 0x12, 0x34])), [15, 0x1234]);
  assert.equal(uint16Values(new Uint8Array([1])), null);
});
