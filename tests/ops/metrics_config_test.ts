// The `[metrics]` config table: `listen` parsed to an address with a port, errors at the key's position, and written back by configToToml.
import assert from "node:assert/strict";
import {
  checkConfigText,
  configToToml,
  formatDiagnostic,
  parseConfigText,
} from "../../src/config/mod.ts";

function errorsOf(text: string): string[] {
  return checkConfigText(text, { fileName: "m.toml" }).diagnostics
    .filter((d) => d.severity === "error")
    .map(formatDiagnostic);
}

Deno.test("[metrics] listen is off by default and parses IPv4 and bracketed IPv6 addresses with a port", () => {
  assert.deepEqual(parseConfigText("", { fileName: "m.toml" }).metrics, { listen: null });
  assert.deepEqual(
    parseConfigText('[metrics]\nlisten = "127.0.0.1:9123"\n', { fileName: "m.toml" }).metrics,
    { listen: { hostname: "127.0.0.1", port: 9123, family: 4 } },
  );
  assert.deepEqual(
    parseConfigText('[metrics]\nlisten = "[::1]:9123"\n', { fileName: "m.toml" }).metrics,
    { listen: { hostname: "::1", port: 9123, family: 6 } },
  );
});

Deno.test("[metrics] listen refuses a host name, a missing port and a typo, at the key's line", () => {
  assert.deepEqual(errorsOf('[metrics]\nlisten = "localhost:9123"\n'), [
    'm.toml:2:1: error: metrics.listen: "localhost:9123" is a host name; give an IP address and ' +
    'port such as "127.0.0.1:9123"',
  ]);
  assert.deepEqual(errorsOf('[metrics]\nlisten = "127.0.0.1"\n'), [
    'm.toml:2:1: error: metrics.listen: "127.0.0.1" has no port; give one, e.g. "127.0.0.1:9123"',
  ]);
  assert.deepEqual(errorsOf('[metrics]\nlisten = "[::1]"\n'), [
    'm.toml:2:1: error: metrics.listen: "[::1]" has no port; give one, e.g. "[::1]:9123"',
  ]);
  assert.deepEqual(errorsOf('[metrics]\nlisen = "127.0.0.1:9123"\n'), [
    'm.toml:2:1: error: metrics.lisen: unknown key; did you mean "listen"?',
  ]);
  assert.equal(errorsOf("[metrics]\nlisten = 9123\n").length, 1);
});

Deno.test("configToToml() writes [metrics] back only when it is set", () => {
  const config = parseConfigText('[metrics]\nlisten = "[::1]:9123"\n', { fileName: "m.toml" });
  const text = configToToml(config);
  assert.equal(text, '[metrics]\nlisten = "[::1]:9123"\n');
  assert.deepEqual(parseConfigText(text, { fileName: "again.toml" }), config);
  assert.equal(configToToml(parseConfigText("", { fileName: "m.toml" })), "");
});
