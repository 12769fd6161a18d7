// Tests of the mode 6 header codec against datagrams captured from ntpq, ntpstat and ntpsec ntpd.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeControlMessage,
  decodeControlRequest,
  encodeControlMessage,
} from "../../../src/core/control/control_message.ts";
import { fromHex, toHex } from "../_vectors.ts";
import { controlCaptures } from "./_captures.ts";
import { propertyRuns } from "../../support/property_runs.ts";

Deno.test("decodeControlRequest() reads ntpq's READSTAT request: LI 3, VN 2, opcode 1, sequence 1", () => {
  const request = decodeControlRequest(fromHex(controlCaptures.ntpqReadStatRequest));
  assert.ok(request !== null);
  assert.equal(request.leap, 3);
  assert.equal(request.version, 2);
  assert.equal(request.opcode, 1);
  assert.equal(request.sequence, 1);
  assert.equal(request.associationId, 0);
  assert.equal(request.data.length, 0);
});

Deno.test("decodeControlRequest() accepts ntpstat's 576-byte request with count 0 and ignores the 564 zero bytes", () => {
  const bytes = fromHex(controlCaptures.ntpstatRequest);
  assert.equal(bytes.length, 576);
  const request = decodeControlRequest(bytes);
  assert.ok(request !== null);
  assert.equal(request.version, 2);
  assert.equal(request.opcode, 2);
  assert.equal(request.data.length, 0);
});

Deno.test("decodeControlMessage() reads ntpd's READSTAT answer: status 0x0016, association 17767 with status 0xb61a", () => {
  const response = decodeControlMessage(fromHex(controlCaptures.ntpdReadStatResponse));
  assert.ok(response !== null);
  assert.equal(response.response, true);
  assert.equal(response.error, false);
  assert.equal(response.more, false);
  assert.equal(response.status, 0x0016);
  assert.equal(toHex(response.data), "4567b61a");
});

Deno.test("decodeControlMessage() reads the two fragment headers of ntpd's 660-byte peer answer", () => {
  const first = decodeControlMessage(
    new Uint8Array([...fromHex(controlCaptures.ntpdPeerFragment1Header), ...new Uint8Array(468)]),
  );
  const second = decodeControlMessage(
    new Uint8Array([...fromHex(controlCaptures.ntpdPeerFragment2Header), ...new Uint8Array(192)]),
  );
  assert.ok(first !== null && second !== null);
  assert.deepEqual([first.more, first.offset, first.data.length], [true, 0, 468]);
  assert.deepEqual([second.more, second.offset, second.data.length], [false, 468, 192]);
  assert.equal(first.associationId, 17767);
  assert.equal(first.status, 0xb61a);
});

Deno.test("decodeControlMessage() returns null when count exceeds the bytes present", () => {
  const header = fromHex(controlCaptures.ntpdPeerFragment1Header); // count 468, no data
  assert.equal(decodeControlMessage(header), null);
});

Deno.test("encodeControlMessage() reproduces every captured datagram byte for byte", () => {
  for (
    const hex of [
      controlCaptures.ntpqReadStatRequest,
      controlCaptures.ntpdReadStatResponse,
      controlCaptures.ntpqReadVarRequest,
      controlCaptures.ntpdReadVarResponse,
      controlCaptures.ntpqNonceRequest,
      controlCaptures.ntpdNonceResponse,
      controlCaptures.ntpqReadMruRequest,
    ]
  ) {
    const message = decodeControlMessage(fromHex(hex));
    assert.ok(message !== null, hex);
    assert.equal(toHex(encodeControlMessage(message)), hex);
  }
});

Deno.test("encodeControlMessage() pads the data to a multiple of 4 without counting the padding", () => {
  const bytes = encodeControlMessage({
    leap: 0,
    version: 2,
    response: false,
    error: false,
    more: false,
    opcode: 2,
    sequence: 2,
    status: 0,
    associationId: 17767,
    offset: 0,
    data: new TextEncoder().encode("stratum,offset,jitter"),
  });
  assert.equal(bytes.length, 36); // check_ntp_peer's request: 12 + 21 data + 3 padding
  assert.equal((bytes[10]! << 8) | bytes[11]!, 21);
});

Deno.test("decodeControlRequest() drops responses, fragments, error bits, non-zero offsets and versions 0, 5..7", () => {
  const good = fromHex(controlCaptures.ntpqReadVarRequest);
  const variants: [string, (b: Uint8Array) => void][] = [
    ["response bit", (b) => b[1] = b[1]! | 0x80],
    ["error bit", (b) => b[1] = b[1]! | 0x40],
    ["more bit", (b) => b[1] = b[1]! | 0x20],
    ["offset 4", (b) => b[9] = 4],
    ["version 0", (b) => b[0] = 0xc6],
    ["version 5", (b) => b[0] = 0xee],
    ["mode 3", (b) => b[0] = 0xd3],
    ["count beyond the datagram", (b) => b[11] = 8],
  ];
  assert.ok(decodeControlRequest(good) !== null);
  for (const [label, mutate] of variants) {
    const bytes = good.slice();
    mutate(bytes);
    assert.equal(decodeControlRequest(bytes), null, label);
  }
  assert.equal(decodeControlRequest(good.subarray(0, 11)), null, "11 bytes");
});

Deno.test("decodeControlMessage() never throws on random bytes and keeps count within the datagram", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
      const message = decodeControlMessage(bytes);
      if (message !== null) {
        assert.ok(message.data.length <= bytes.length - 12);
        assert.equal(
          toHex(encodeControlMessage(message)).slice(0, 24),
          toHex(bytes.subarray(0, 12)).slice(0, 24),
        );
      }
    }),
    { numRuns: propertyRuns(3000) },
  );
});
