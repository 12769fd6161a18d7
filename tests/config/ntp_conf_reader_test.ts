// The ntp.conf reader: directives to the TOML-shaped document, positions, and ntpd's semantics.
import assert from "node:assert/strict";
import { readNtpConf } from "../../src/config/ntp_conf_reader.ts";
import { checkConfigText, parseConfigText } from "../../src/config/parse_config.ts";
import { formatDiagnostic } from "../../src/config/diagnostics.ts";

const messages = (text: string): string[] =>
  checkConfigText(text, { fileName: "n.conf" }).diagnostics.map(formatDiagnostic);

Deno.test("readNtpConf() turns server options into the keys TOML uses", () => {
  const { document, diagnostics } = readNtpConf(
    "server -6 a.example.net iburst prefer minpoll 4 maxpoll 8 version 3 port 1123\n",
    "n.conf",
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(JSON.parse(JSON.stringify(document)), {
    server: [{
      address: "a.example.net",
      ipv6: true,
      iburst: true,
      prefer: true,
      minpoll: 4,
      maxpoll: 8,
      version: 3,
      port: 1123,
    }],
  });
});

Deno.test("ntp.conf and the equivalent TOML load to the same config", () => {
  const conf = "driftfile /var/lib/ntp/drift\npool -4 pool.ntp.org iburst maxpoll 12\n" +
    "restrict default kod limited\nrestrict 192.0.2.0 mask 255.255.255.0\n" +
    "tos orphan 10 orphanwait 60\ntinker panic 0 step 0.5\ndiscard average 4\n" +
    "interface ignore wildcard\ninterface listen 192.0.2.1\ninterface listen ::1\n";
  const toml = 'driftfile = "/var/lib/ntp/drift"\nlisten = ["192.0.2.1", "::1"]\n\n' +
    '[[pool]]\naddress = "pool.ntp.org"\nipv4 = true\niburst = true\nmaxpoll = 12\n\n' +
    '[[restrict]]\naddress = "default"\nflags = ["limited", "kod"]\n\n' +
    '[[restrict]]\naddress = "192.0.2.0/24"\n\n' +
    "[tos]\norphan = 10\norphanwait = 60\n\n[tinker]\npanic = 0\nstep = 0.5\n\n" +
    "[discard]\naverage = 4\n";
  const fromConf = parseConfigText(conf, { fileName: "n.conf" });
  const fromToml = parseConfigText(toml, { fileName: "n.toml" });
  assert.deepEqual(fromConf, fromToml);
  assert.deepEqual(fromConf.listen, [
    { hostname: "192.0.2.1", port: 123, family: 4 },
    { hostname: "::1", port: 123, family: 6 },
  ]);
  assert.equal(fromConf.tinker.stepThresholdSeconds, 0.5);
});

Deno.test("without interface lines both wildcards listen on port 123", () => {
  assert.deepEqual(parseConfigText("server a.example.net\n", { fileName: "n.conf" }).listen, [
    { hostname: "0.0.0.0", port: 123, family: 4 },
    { hostname: "::", port: 123, family: 6 },
  ]);
});

Deno.test("interface ignore ipv6 keeps only the IPv4 wildcard", () => {
  const config = parseConfigText("interface ignore ipv6\n", { fileName: "n.conf" });
  assert.deepEqual(config.listen, [{ hostname: "0.0.0.0", port: 123, family: 4 }]);
});

Deno.test("ignoring the wildcard without listen addresses is an error naming interface", () => {
  assert.deepEqual(messages("interface ignore wildcard\n").filter((m) => m.includes("error")), [
    "n.conf:1:1: error: interface: got an empty list, expected at least one address",
  ]);
});

Deno.test("server option errors point at the option and suggest the right word", () => {
  assert.deepEqual(messages("server a.example.net ibrust minpoll\nserver b.example.net -4\n"), [
    "n.conf:1:1: warning: only 2 servers configured; the NTP pool advises at least 4 so that one bad server can be outvoted",
    'n.conf:1:22: error: server: unknown option "ibrust"; did you mean "iburst"?',
    "n.conf:1:29: error: server minpoll: needs a value",
    "n.conf:2:22: error: server: -4 must come before the address",
  ]);
});

Deno.test("a directive given twice is an error that names the first line", () => {
  assert.deepEqual(
    messages("driftfile /a/drift\ndriftfile /b/drift\ntos orphan 5\ntos orphan 6\n"),
    [
      "n.conf:1:1: warning: no server or pool configured; the NTP pool advises at least 4 so that one bad server can be outvoted",
      "n.conf:2:1: error: driftfile: given twice; first at line 1",
      "n.conf:4:5: error: tos orphan: given twice; first at line 3",
    ],
  );
});

Deno.test("tos and tinker options are checked like TOML keys, with suggestions", () => {
  assert.deepEqual(messages("server a\nserver b\nserver c\nserver d\ntos minclok 3 maxclock 0\n"), [
    'n.conf:5:5: error: tos minclok: unknown key; did you mean "minclock"?',
    "n.conf:5:15: error: tos maxclock: got 0, expected an integer from 1 to 100",
  ]);
});

Deno.test("comments before and after a directive travel with it into the import items", () => {
  const { header, items } = readNtpConf(
    "# head\n\n# about a\nserver a.example.net # a!\n\n# about b\nserver b.example.net\n# tail\n",
    "n.conf",
  );
  assert.deepEqual(header, ["# head"]);
  assert.deepEqual(items.map((item) => [item.kind, item.comments]), [
    ["entry", { leading: ["# about a"], trailing: ["# a!"] }],
    ["entry", { leading: ["# about b"], trailing: [] }],
    ["trailing", { leading: ["# tail"], trailing: [] }],
  ]);
});

Deno.test("keys named like Object.prototype members are ordinary unknown keys", () => {
  assert.deepEqual(
    messages("__proto__ x\ntos constructor 1\nserver a toString\n").filter((m) =>
      !m.includes("warning: only")
    ),
    [
      'n.conf:1:1: warning: unknown directive "__proto__" is ignored and kept as a comment',
      "n.conf:2:5: error: tos constructor: unknown key; allowed keys: minsane, minclock, maxclock, orphan, orphanwait",
      'n.conf:3:10: error: server: unknown option "toString"; allowed: iburst, burst, prefer, noselect, nts, noval, minpoll, maxpoll, version, port, ca, ask',
    ],
  );
});
