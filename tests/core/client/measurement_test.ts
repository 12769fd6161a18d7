// Tests of the on-wire calculation: offset, delay and dispersion from T1..T4.
import assert from "node:assert/strict";
import { measure } from "../../../src/core/client/measurement.ts";
import { at } from "./_replies.ts";

const precisions = { localPrecisionLog2: -20, serverPrecisionLog2: -23 };

Deno.test("measure() takes the offset as the mean of the two legs and the delay net of server time", () => {
  // Server clock 5 ms ahead; 1 ms each way; 0.1 ms in the server.
  const m = measure(
    {
      originTime: at(0),
      serverReceiveTime: at(0.006),
      serverTransmitTime: at(0.0061),
      destinationTime: at(0.0021),
    },
    precisions,
  );
  assert.ok(Math.abs(m.offsetSeconds - 0.005) < 1e-9);
  assert.ok(Math.abs(m.delaySeconds - 0.002) < 1e-9);
  assert.ok(Math.abs(m.dispersionSeconds - (2 ** -23 + 2 ** -20 + 15e-6 * 0.0021)) < 1e-12);
});

Deno.test("measure() reports the asymmetry error as half the difference of the legs", () => {
  // True offset 0; 3 ms out, 1 ms back.
  const m = measure(
    {
      originTime: at(0),
      serverReceiveTime: at(0.003),
      serverTransmitTime: at(0.003),
      destinationTime: at(0.004),
    },
    precisions,
  );
  assert.ok(Math.abs(m.offsetSeconds - 0.001) < 1e-9);
});

Deno.test("measure() floors a negative delay at the precision and works across the era boundary", () => {
  const negative = measure(
    {
      originTime: at(0),
      serverReceiveTime: at(0.002),
      serverTransmitTime: at(0.003),
      destinationTime: at(0.0005),
    },
    precisions,
  );
  assert.equal(negative.delaySeconds, 2 ** -20);
  const t1 = { seconds: 0xffffffff, fraction: 2 ** 31 };
  const m = measure(
    {
      originTime: t1,
      serverReceiveTime: { seconds: 0, fraction: 0 },
      serverTransmitTime: { seconds: 0, fraction: 0 },
      destinationTime: { seconds: 0, fraction: 2 ** 31 },
    },
    precisions,
  );
  assert.ok(Math.abs(m.delaySeconds - 1) < 1e-9);
  assert.ok(Math.abs(m.offsetSeconds) < 1e-9);
});
