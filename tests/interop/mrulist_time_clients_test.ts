// End to end: the real ntpq's `mrulist` against a running `ntp serve` lists the time clients it served, one row per source address, with their counts.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { runNtpq } from "../support/control_clients.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";

/** Clients: 127.0.1.1 ... (loopback answers every 127/8 address); more than one READ_MRU answer holds. */
const clientCount = 300;

function sourceAddress(index: number): string {
  return `127.0.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
}

/** Sends `requests` NTPv4 client requests from `address` and waits for the replies. */
async function askFrom(
  address: string,
  target: { readonly port: number; readonly requests: number },
): Promise<number> {
  const socket = dgram.createSocket("udp4");
  try {
    await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
    let answered = 0;
    for (let i = 0; i < target.requests; i++) {
      const request = new Uint8Array(48);
      request[0] = 0x23;
      request[47] = i + 1;
      const reply = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 1000);
        socket.once("message", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      socket.send(request, target.port, "127.0.0.1");
      if (await reply) answered++;
    }
    return answered;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

Deno.test("ntpq -c mrulist lists every time client of a running ntp serve with its count", async () => {
  const port = await freeUdpPort("127.0.0.1");
  await using server = await startNtpServer({
    config: "tos orphan 8 orphanwait 0\n",
    listen: [`127.0.0.1:${port}`],
    clock: "soft",
  });
  // Client i sends 1 + (i % 3) requests; all within the default burst of 16, so all answered.
  const expected = new Map<string, number>();
  for (let start = 0; start < clientCount; start += 50) {
    const batch = Array.from({ length: Math.min(50, clientCount - start) }, (_, k) => start + k);
    const answered = await Promise.all(
      batch.map((i) => askFrom(sourceAddress(i), { port, requests: 1 + (i % 3) })),
    );
    batch.forEach((i, k) => {
      assert.equal(answered[k], 1 + (i % 3), `${sourceAddress(i)}: ${server.describe()}`);
      expected.set(sourceAddress(i), 1 + (i % 3));
    });
  }

  const result = await runNtpq({ host: "127.0.0.1", port }, ["mrulist"], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  // Rows: lstint avgint rstr r m v count [score] drop rport remote-address.
  const rows = new Map<string, { count: number; mode: number; version: number }>();
  for (const line of result.stdout.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const address = fields.at(-1) ?? "";
    if (!/^127\.0\.[12]\.\d+$/.test(address)) continue;
    assert.ok(!rows.has(address), `${address} listed twice`);
    rows.set(address, {
      mode: Number(fields[4]),
      version: Number(fields[5]),
      count: Number(fields[6]),
    });
  }
  assert.equal(rows.size, clientCount, result.stdout.split("\n").slice(0, 8).join("\n"));
  for (const [address, count] of expected) {
    assert.deepEqual(rows.get(address), { count, mode: 3, version: 4 }, address);
  }
  // ntpq itself (mode 6 from 127.0.0.1) is listed too, as ntpd's monitor lists it.
  assert.match(result.stdout, / 6 2 .* 127\.0\.0\.1$/m);
});
