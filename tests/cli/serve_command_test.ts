// parseServeArgs(): every `ntp serve` flag, its default, and the usage errors that name the flag.
import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/errors.ts";
import { parseServeArgs, serveUsage } from "../../src/cli/serve_command.ts";

Deno.test("parseServeArgs() reads every flag, with auto clock and nothing else by default", () => {
  assert.deepEqual(parseServeArgs([]), { listen: [], clock: "auto" });
  assert.deepEqual(
    parseServeArgs([
      "-c",
      "/etc/ntp/ntp.toml",
      "--listen",
      "127.0.0.1:0",
      "--listen=[::1]:4123",
      "--clock=soft",
      "--workers",
      "3",
      "--io",
      "portable",
      "--log-level",
      "debug",
    ]),
    {
      configPath: "/etc/ntp/ntp.toml",
      listen: [
        { hostname: "127.0.0.1", port: 0, family: 4 },
        { hostname: "::1", port: 4123, family: 6 },
      ],
      clock: "soft",
      io: "portable",
      workers: 3,
      logLevel: "debug",
    },
  );
});

Deno.test("parseServeArgs() takes -cFILE and a final -- as ntpd's getopt did", () => {
  assert.equal(parseServeArgs(["-c/etc/ntp.conf"]).configPath, "/etc/ntp.conf");
  assert.deepEqual(parseServeArgs(["--clock", "soft", "--"]), { listen: [], clock: "soft" });
});

Deno.test("parseServeArgs() refuses bad values, unknown flags and stray arguments by name", () => {
  const cases: [string[], RegExp][] = [
    [["--workers", "0"], /^--workers: '0' is not a whole number from 1 to 256$/],
    [["--workers", "2.5"], /^--workers: '2.5'/],
    [["--clock", "ntp"], /^--clock: 'ntp' is not one of auto, kernel, soft$/],
    [["--io=slow"], /^--io: 'slow' is not one of fast, portable$/],
    [["--log-level", "loud"], /^--log-level: 'loud'/],
    [["--listen", "localhost:123"], /^--listen: 'localhost:123' is not an IP address/],
    [["--config"], /^--config needs a value$/],
    [["--verbose"], /^serve: unknown flag '--verbose'$/],
    [["ntp.toml"], /^serve: unexpected argument 'ntp.toml'$/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseServeArgs(args),
      (error: unknown) => error instanceof UsageError && message.test(error.message),
      args.join(" "),
    );
  }
});

Deno.test("the serve help lists every flag the parser takes", () => {
  for (
    const flag of ["--config, -c FILE", "--listen", "--clock", "--workers", "--io", "--log-level"]
  ) {
    assert.ok(serveUsage.includes(`  ${flag}`), flag);
  }
});
