// One client meets one rate-limit table across responder threads: SO_REUSEPORT is steered by
// source address, so new source ports do not earn a fresh burst from another worker.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { encodeProgram, steeringProgram } from "../../src/io/reuseport_steering.ts";
import { startResponders } from "../../src/daemon/responders.ts";

Deno.test("steeringProgram() hashes the IPv4 source address and returns it mod the socket count", () => {
  assert.deepEqual(steeringProgram(4, 3), [[0x20, 0xfff0000c], [0x94, 3], [0x16, 0]]);
  const v6 = steeringProgram(6, 2);
  assert.equal(v6.length, 12);
  assert.deepEqual(v6.at(-2), [0x94, 2]);
  const bytes = encodeProgram(steeringProgram(4, 2));
  assert.equal(bytes.length, 24);
  assert.equal(new DataView(bytes.buffer).getUint32(4, true), 0xfff0000c);
});

async function askFromNewPort(port: number): Promise<boolean> {
  const socket = dgram.createSocket("udp4");
  try {
    const request = new Uint8Array(48);
    request[0] = 0x23; // LI 0, VN 4, mode 3
    crypto.getRandomValues(request.subarray(40));
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.on("message", (reply) => {
        clearTimeout(timer);
        resolve(reply.length === 48 && reply[1] !== 0); // a real answer, not a KoD
      });
      socket.send(request, port, "127.0.0.1");
    });
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

Deno.test("with two workers a client changing source port still gets only one burst", async () => {
  const burstPackets = 8;
  const responders = await startResponders({
    listen: [{ hostname: "127.0.0.1", port: 0, family: 4 }],
    workers: 2,
    io: "fast",
    restrict: [{
      family: 4,
      network: new Uint8Array(4),
      mask: new Uint8Array(4),
      flags: ["limited"],
    }],
    rateLimit: { averageLog2: 10, minimumSeconds: 0, burstPackets, tableEntries: 1024 },
    initialSnapshot: {
      leap: 0,
      stratum: 2,
      precisionLog2: -20,
      referenceId: 0x7f000001,
      referenceTime: { seconds: 0, fraction: 0 },
      rootDelaySeconds: 0,
      rootDispersionSeconds: 0,
    },
  });
  try {
    const port = responders.addresses[0]!.port;
    let answered = 0;
    for (let i = 0; i < 3 * burstPackets; i++) if (await askFromNewPort(port)) answered++;
    assert.equal(answered, burstPackets);
  } finally {
    await responders.close();
  }
});
