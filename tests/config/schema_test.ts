// The schema is consistent with itself and with NtpConfig: defaults valid, names matching, no overlaps.
import assert from "node:assert/strict";
import { checkValue } from "../../src/config/check_values.ts";
import { simpleSectionFields } from "../../src/config/ntp_config.ts";
import { checkConfigText, parseConfigText } from "../../src/config/parse_config.ts";
import { configSchema, unsupportedDirectives, unsupportedKeys } from "../../src/config/schema.ts";

Deno.test("every default passes its own key's check", () => {
  for (const section of configSchema) {
    for (const field of section.fields) {
      if (field.required || field.default === null) continue;
      const checked = checkValue(field, field.default);
      assert.ok(
        checked.ok,
        `${section.name}.${field.key}: default ${field.default} fails its check`,
      );
    }
  }
});

Deno.test("one-to-one sections name exactly the NtpConfig properties", () => {
  for (const [name, fields] of Object.entries(simpleSectionFields)) {
    const section = configSchema.find((s) => s.name === name);
    assert.ok(section, name);
    const mapped = section.fields.flatMap((f) => f.field === undefined ? [] : [f.field]);
    assert.deepEqual(mapped.sort(), Object.keys(fields).sort(), `section "${name}"`);
  }
});

Deno.test("unsupported directives and keys never collide with supported ones", () => {
  const topLevel = configSchema.flatMap((s) =>
    s.shape === "root" ? s.fields.map((f) => f.key) : [s.name]
  );
  for (const directive of Object.keys(unsupportedDirectives)) {
    assert.ok(!topLevel.includes(directive), directive);
  }
  for (const [name, keys] of Object.entries(unsupportedKeys)) {
    const section = configSchema.find((s) => s.name === name);
    assert.ok(section, name);
    for (const key of Object.keys(keys)) {
      assert.ok(!section.fields.some((f) => f.key === key), `${name}.${key}`);
      assert.match(keys[key] ?? "", /not supported yet/);
    }
  }
});

Deno.test("an empty config resolves to the documented defaults", () => {
  assert.deepEqual(parseConfigText("", { fileName: "empty.toml" }), {
    driftFile: null,
    logFile: null,
    leapFile: null,
    statsDir: null,
    statistics: [],
    listen: [
      { hostname: "0.0.0.0", port: 123, family: 4 },
      { hostname: "::", port: 123, family: 6 },
    ],
    servers: [],
    pools: [],
    restrict: [],
    tos: { minSane: 1, minClock: 3, maxClock: 10, orphanStratum: 16, orphanWaitSeconds: 300 },
    tinker: { stepThresholdSeconds: 0.128, panicThresholdSeconds: 1000, stepoutSeconds: 900 },
    discard: { averageLog2: 3, minimumSeconds: 2, monitorEntries: 65536, burstPackets: 16 },
    serve: { workers: "auto", clock: "auto", logLevel: "info" },
    metrics: { listen: null },
    nts: {
      enable: false,
      certificateFile: null,
      keyFile: null,
      cookieKeysFile: null,
      listen: [{ hostname: "::", port: 4460, family: 6 }],
      rotateSeconds: 86400,
      keepKeys: 7,
      aeadIds: [15],
      maxConnections: 512,
      timeoutSeconds: 1,
      perSourceRate: 20,
      perSourceBurst: 40,
    },
    leapSmear: { intervalSeconds: 0, listen: [] },
    pick: { candidatesFile: null, replaceAfterPolls: 8 },
  });
});

Deno.test("leap smearing: ntp.conf's leapsmearinterval and [leapsmear] give the same config; misuse named at its key", () => {
  const conf = parseConfigText("leapsmearinterval 7200\n", { fileName: "ntp.conf" });
  assert.deepEqual(conf.leapSmear, { intervalSeconds: 7200, listen: null });
  const toml = parseConfigText(
    'listen = ["203.0.113.5:123", "[fd00::1]:123"]\n[leapsmear]\ninterval = 7200\n' +
      'listen = ["[FD00:0::1]"]\n',
    { fileName: "s.toml" },
  );
  assert.deepEqual(toml.leapSmear, {
    intervalSeconds: 7200,
    listen: [{ hostname: "fd00::1", port: 123, family: 6 }],
  });
  const problems = (text: string, fileName = "s.toml") => {
    try {
      parseConfigText(text, { fileName });
      return "";
    } catch (error) {
      return JSON.stringify(error);
    }
  };
  assert.match(
    problems('listen = ["10.0.0.1:123"]\n[leapsmear]\ninterval = 60\nlisten = ["10.0.0.2"]\n'),
    /leapsmear\.listen\[0\].*not one of the listen addresses/,
  );
  assert.match(problems("[leapsmear]\ninterval = 90000\n"), /leapsmear\.interval/);
  assert.match(problems('[leapsmear]\nlisten = ["0.0.0.0"]\n'), /set leapsmear\.interval too/);
  assert.match(
    problems(
      '[leapsmear]\ninterval = 7200\n[nts]\nenable = true\ncert = "/c.pem"\nkey = "/k.pem"\n',
    ),
    /not available with the NTS server/,
  );
  assert.match(problems("leapsmearinterval 1 2\n", "ntp.conf"), /give one number/);
});

Deno.test("[nts] enable without cert and key is an error naming both keys", () => {
  assert.throws(
    () => parseConfigText("[nts]\nenable = true\n", { fileName: "n.toml" }),
    (error: Error) =>
      /nts\.cert/.test(JSON.stringify(error)) && /nts\.key/.test(JSON.stringify(error)),
  );
});

Deno.test("a server with only an address gets ntpd's defaults", () => {
  const config = parseConfigText('[[server]]\naddress = "a.example.net"\n', { fileName: "s.toml" });
  assert.deepEqual(config.servers, [{
    host: "a.example.net",
    port: 123,
    family: null,
    iburst: false,
    burst: false,
    prefer: false,
    noselect: false,
    minPollLog2: 6,
    maxPollLog2: 10,
    version: 4,
    nts: null,
  }]);
});

Deno.test("NTS upstreams: TOML keys and NTPsec's ntp.conf spelling give the same config; misuse named at its key", () => {
  const toml = parseConfigText(
    '[[server]]\naddress = "time.example"\niburst = true\nnts = true\nnts_ca = "/etc/ca.pem"\n' +
      "nts_ke_port = 4461\n",
    { fileName: "n.toml" },
  );
  const conf = parseConfigText("server time.example:4461 iburst nts ca /etc/ca.pem\n", {
    fileName: "ntp.conf",
  });
  assert.deepEqual(toml.servers, conf.servers);
  assert.deepEqual(toml.servers[0]?.nts, {
    caFile: "/etc/ca.pem",
    kePort: 4461,
    keServer: null,
    verifyCertificate: true,
  });
  assert.equal(toml.servers[0]?.port, 123, "NTP itself stays on 123 unless negotiated");
  const plain = parseConfigText("server 192.0.2.1 nts\n", { fileName: "ntp.conf" });
  assert.deepEqual(plain.servers[0]?.nts, {
    caFile: null,
    kePort: 4460,
    keServer: null,
    verifyCertificate: true,
  });
  // NTPsec's `ask HOST:PORT` (another NTS-KE server; the address's port is NTP's then) and
  // `noval` (no certificate check: accepted with a warning naming the place).
  const ask = parseConfigText("server 192.0.2.1:1123 nts ask ke.example:4461\n", {
    fileName: "ntp.conf",
  });
  assert.deepEqual(ask.servers[0]?.nts, {
    caFile: null,
    kePort: 4461,
    keServer: "ke.example",
    verifyCertificate: true,
  });
  assert.equal(ask.servers[0]?.port, 1123);
  const askToml = parseConfigText(
    '[[server]]\naddress = "192.0.2.1:1123"\nnts = true\nnts_ke_server = "ke.example:4461"\n',
    { fileName: "a.toml" },
  );
  assert.deepEqual(askToml.servers, ask.servers);
  const noval = checkConfigText("server 192.0.2.1 nts noval\n", { fileName: "ntp.conf" });
  assert.equal(noval.config?.servers[0]?.nts?.verifyCertificate, false);
  const notChecked = noval.diagnostics.filter((d) => /certificate is NOT checked/.test(d.message));
  assert.deepEqual(notChecked.map((d) => `${d.line}:${d.column} ${d.severity}`), ["1:22 warning"]);
  for (
    const [text, file, message] of [
      [
        '[[server]]\naddress = "a.example"\nnts_ca = "/ca.pem"\n',
        "a.toml",
        "a.toml:3:1: error: server[0].nts_ca: nts_ca needs nts = true",
      ],
      ["server a.example ca /ca.pem\n", "ntp.conf", "nts_ca needs nts = true"],
      [
        "server a.example noval\n",
        "ntp.conf",
        "ntp.conf:1:18: error: server noval: nts_noval needs nts = true",
      ],
      ["server a.example ask ke.example\n", "ntp.conf", "nts_ke_server needs nts = true"],
      ["server a.example nts ca relative.pem\n", "ntp.conf", "expected an absolute path"],
      [
        '[[pool]]\naddress = "p.example:4460"\nnts = true\nnts_ke_port = 9\n',
        "p.toml",
        "contradicts the port",
      ],
    ] as const
  ) {
    assert.throws(() => parseConfigText(text, { fileName: file }), (error: Error) => {
      assert.ok(error.message.includes(message), error.message);
      return true;
    });
  }
});
