// Fuzzes the running `ntp serve` with 100k random and mutated datagrams: it keeps running, answers only valid input, never amplifies.
import assert from "node:assert/strict";
import { ntpdig, scapyProbe } from "../support/clients.ts";
import { classifyDatagram, fuzzServer, seedDatagrams } from "../support/ntp_fuzz.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { fromHex } from "../support/udp_probe.ts";

const config =
  `# fuzz target configuration (ntp.conf syntax): loopback may query (mode 6) and is not rate limited
tos orphan 10 orphanwait 0
restrict default kod limited nomodify notrap nopeer noquery
restrict 127.0.0.1
restrict ::1
`;

const packets = 100_000;

Deno.test("classifyDatagram() applies the validity rules the fuzz test expects the server to follow", () => {
  const request = (first: number, trailer = "") =>
    fromHex(first.toString(16).padStart(2, "0") + "00".repeat(47) + trailer);
  assert.equal(classifyDatagram(request(0xe3)), "validMode3");
  assert.equal(classifyDatagram(request(0x0b)), "validMode3"); // version 1
  assert.equal(classifyDatagram(request(0x23).subarray(0, 47)), "invalidShort");
  assert.equal(classifyDatagram(new Uint8Array(0)), "invalidShort");
  assert.equal(classifyDatagram(request(0x03)), "invalidVersion"); // version 0
  assert.equal(classifyDatagram(request(0x2b)), "invalidVersion"); // version 5
  assert.equal(classifyDatagram(request(0x21)), "invalidMode"); // symmetric active
  assert.equal(classifyDatagram(request(0x24)), "invalidMode"); // a server reply
  assert.equal(classifyDatagram(fromHex("1700032a00000000")), "invalidMode"); // mode 7
  assert.equal(classifyDatagram(request(0x23, "00".repeat(20))), "validMode3"); // key id + MD5
  assert.equal(classifyDatagram(request(0x23, "00".repeat(4))), "validMode3"); // crypto-NAK
  assert.equal(classifyDatagram(request(0x23, "00".repeat(8))), "invalidTrailer");
  assert.equal(classifyDatagram(request(0x23, "0104001c" + "00".repeat(24))), "validMode3"); // 28-byte field
  assert.equal(classifyDatagram(request(0x23, "01040010" + "00".repeat(12))), "invalidTrailer"); // lone 16-byte field
  assert.equal(classifyDatagram(request(0x23, "0104000c" + "00".repeat(24))), "invalidTrailer"); // length 12
  assert.equal(classifyDatagram(request(0x23, "01040040" + "00".repeat(24))), "invalidTrailer"); // overruns
  assert.equal(classifyDatagram(request(0x23, "00")), "invalidTrailer"); // not a multiple of 4
  assert.equal(classifyDatagram(fromHex("160200010000000000000000")), "validMode6");
  assert.equal(classifyDatagram(fromHex("1602000100000000000000")), "invalidShort");
  assert.equal(classifyDatagram(fromHex("168200010000000000000000")), "invalidMode6Response");
  assert.deepEqual(
    seedDatagrams().map(classifyDatagram),
    [...new Array(10).fill("validMode3"), ...new Array(7).fill("validMode6")],
  );
});

Deno.test(`ntp serve survives ${packets} fuzzed datagrams, answers only valid ones, and never amplifies mode 3`, async () => {
  const seed = Number(Deno.env.get("NTP_FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const port = await freeUdpPort();
  await using server = await startNtpServer({ config, listen: [`127.0.0.1:${port}`] });
  const started = performance.now();
  const report = await fuzzServer({ host: "127.0.0.1", port }, { packets, seed });
  const seconds = (performance.now() - started) / 1000;
  console.log(`seed ${seed} (replay with NTP_FUZZ_SEED=${seed}), ${seconds.toFixed(1)} s`);
  for (const [inputClass, counts] of Object.entries(report.perClass)) {
    console.log(
      `  ${
        inputClass.padEnd(22)
      } sent ${counts.sent}, answered ${counts.answered}, replies ${counts.replies}`,
    );
  }
  console.log(`  largest mode 6 reply: ${report.largestControlReply} bytes`);

  assert.ok(
    server.running,
    `the server died during the fuzz run (seed ${seed})\n${server.describe()}`,
  );
  assert.deepEqual(report.problems, [], `${report.problemCount} problems (seed ${seed})`);
  const valid = report.perClass.validMode3;
  assert.ok(valid.sent > packets / 10, `only ${valid.sent} valid mode 3 requests generated`);
  assert.ok(
    valid.answered >= valid.sent * 0.95,
    `only ${valid.answered} of ${valid.sent} valid mode 3 requests answered (seed ${seed})`,
  );
  for (
    const inputClass of ["invalidShort", "invalidVersion", "invalidMode", "invalidTrailer"] as const
  ) {
    assert.ok(report.perClass[inputClass].sent > 100, `too few ${inputClass} inputs generated`);
  }

  const probe = await scapyProbe({ host: "127.0.0.1", port });
  assert.ok(probe.ok, `no valid answer after the fuzz run (seed ${seed})\n${probe.raw}`);
  const dig = await ntpdig({ host: "127.0.0.1", port });
  assert.ok(dig.ok, dig.raw);
});
