// The leap-seconds file in the running daemon: read at start, shown to the real ntpq as ntpd shows it (tai, leapsec, expire), a damaged one refused with its line and not shown.
import assert from "node:assert/strict";
import { runNtpq } from "../support/control_clients.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { parseNtpqVariables } from "../support/ntpq_output.ts";
import { freeUdpPort } from "../support/ports.ts";

const tzdataFile = decodeURIComponent(
  new URL("../testdata/leap/tzdata-2025b-leap-seconds.list", import.meta.url).pathname,
);

Deno.test("ntpq -c rv shows tai=37, leapsec=201701010000 and expire=202606280000 from tzdata's file, as ntpd does; the expiry is logged", async () => {
  const port = await freeUdpPort();
  await using server = await startNtpServer({
    config: `leapfile ${tzdataFile}\n`,
    configFormat: "conf",
    listen: [`127.0.0.1:${port}`],
    clock: "soft",
  });
  const result = await runNtpq({ host: "127.0.0.1", port }, ["rv"]);
  const variables = parseNtpqVariables(result.stdout).variables;
  assert.equal(variables.get("tai"), "37", result.stdout);
  assert.equal(variables.get("leapsec"), "201701010000");
  assert.equal(variables.get("expire"), "202606280000");
  assert.match(
    server.stderr,
    /leap seconds from .*tzdata-2025b-leap-seconds\.list: TAI-UTC 37 s, last leap 2017-01-01, (EXPIRED on|valid until) 2026-06-28/,
  );
});

Deno.test("a damaged leap-seconds file is refused with its line and not shown in mode 6; the daemon serves on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-leap-" });
  try {
    const text = await Deno.readTextFile(tzdataFile);
    const damaged = `${dir}/leap-seconds.list`;
    await Deno.writeTextFile(damaged, text.replace(/^(3692217600\s+)37/m, "$136"));
    const port = await freeUdpPort();
    await using server = await startNtpServer({
      config: `leapfile ${damaged}\n`,
      configFormat: "conf",
      listen: [`127.0.0.1:${port}`],
      clock: "soft",
    });
    const result = await runNtpq({ host: "127.0.0.1", port }, ["rv"]);
    const variables = parseNtpqVariables(result.stdout).variables;
    assert.equal(variables.has("tai"), false, result.stdout);
    assert.ok(variables.has("stratum"), "the daemon answers");
    const line = text.split("\n").findIndex((l) => l.startsWith("3692217600")) + 1;
    assert.match(server.stderr, new RegExp(`leap-seconds\\.list:${line}: .*the file is not used`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
