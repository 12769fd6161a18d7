// Tests of the counters array: layout, shared memory, summing across workers.
import assert from "node:assert/strict";
import {
  Counter,
  COUNTER_COUNT,
  counterNames,
  COUNTERS_BYTE_LENGTH,
  countersToRecord,
  createCounters,
  dropCounter,
  sumCounters,
} from "../../../src/core/server/counters.ts";

Deno.test("counterNames lists every counter at its index", () => {
  assert.equal(counterNames.length, COUNTER_COUNT);
  counterNames.forEach((name, index) => assert.equal(Counter[name], index));
  assert.equal(new Set(Object.values(dropCounter)).size, Object.keys(dropCounter).length);
});

Deno.test("createCounters() writes through to a SharedArrayBuffer another thread can read", () => {
  const buffer = new SharedArrayBuffer(COUNTERS_BYTE_LENGTH);
  const counters = createCounters(buffer);
  counters[Counter.served] = 5;
  assert.equal(new Float64Array(buffer)[Counter.served], 5);
  assert.throws(() => createCounters(new SharedArrayBuffer(8)), RangeError);
});

Deno.test("sumCounters() adds the workers' arrays element by element", () => {
  const a = createCounters();
  const b = createCounters();
  a[Counter.received] = 3;
  b[Counter.received] = 4;
  b[Counter.dropMode7] = 1;
  const total = countersToRecord(sumCounters([a, b]));
  assert.equal(total.received, 7);
  assert.equal(total.dropMode7, 1);
  assert.equal(total.served, 0);
});
