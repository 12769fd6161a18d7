// Property tests: config -> TOML -> config is the identity; no input makes the loader throw anything but ConfigError.
import assert from "node:assert/strict";
import fc from "fast-check";
import { GENERATION_TYPES } from "../../src/core/stats/file_generation.ts";
import { stringify } from "smol-toml";
import { ConfigError } from "../../src/config/diagnostics.ts";
import type {
  ListenAddress,
  NtpConfig,
  RestrictConfig,
  UpstreamConfig,
} from "../../src/config/ntp_config.ts";
import { checkConfigText, parseConfigText } from "../../src/config/parse_config.ts";
import type { ConfigFormat } from "../../src/config/parse_config.ts";
import { resolveConfig } from "../../src/config/build_config.ts";
import { configSchema, restrictFlags, unsupportedDirectives } from "../../src/config/schema.ts";
import { configToToml } from "../../src/config/toml_writer.ts";
import { indexTomlPositions } from "../../src/config/toml_positions.ts";
import {
  bytesToText,
  ipBytes,
  parseIpLiteral,
  prefixMaskBytes,
} from "../../src/config/addresses.ts";
import { repoPath } from "./_helpers.ts";
import { propertyRuns } from "../support/property_runs.ts";

const canonicalIp = (text: string): string => {
  const parsed = parseIpLiteral(text);
  if (!parsed.ok) throw new Error(`generator produced ${text}`);
  return parsed.value.canonical;
};
const ipv4 = fc.ipV4().map(canonicalIp);
const ipv6 = fc.ipV6().map(canonicalIp).filter((ip) => !ip.startsWith("::ffff:"));
const hostName = fc.domain().map((name) => name.toLowerCase());

const path = fc.option(
  fc.string({ unit: "binary", maxLength: 30 }).filter((s) => !s.includes("\0")).map((s) => `/${s}`),
  { nil: null },
);

const listen: fc.Arbitrary<ListenAddress[]> = fc.uniqueArray(
  fc.oneof(
    fc.record({
      hostname: ipv4,
      port: fc.integer({ min: 1, max: 65535 }),
      family: fc.constant(4 as const),
    }),
    fc.record({
      hostname: ipv6,
      port: fc.integer({ min: 1, max: 65535 }),
      family: fc.constant(6 as const),
    }),
  ),
  { minLength: 1, maxLength: 4, selector: (a) => `${a.hostname} ${a.port}` },
);

const upstream: fc.Arbitrary<UpstreamConfig> = fc
  .record({
    target: fc.oneof(
      fc.record({ host: hostName, family: fc.constantFrom<4 | 6 | null>(null, 4, 6) }),
      fc.record({
        host: ipv4.filter((ip) => !ip.startsWith("127.127.")),
        family: fc.constant<4 | 6 | null>(4),
      }),
      fc.record({ host: ipv6, family: fc.constant<4 | 6 | null>(6) }),
    ),
    port: fc.oneof(fc.constant(123), fc.integer({ min: 1, max: 65535 })),
    iburst: fc.boolean(),
    burst: fc.boolean(),
    prefer: fc.boolean(),
    noselect: fc.boolean(),
    polls: fc.tuple(fc.integer({ min: 3, max: 17 }), fc.integer({ min: 3, max: 17 })),
    version: fc.integer({ min: 1, max: 4 }),
    nts: fc.option(
      fc.record({
        caFile: fc.option(fc.constantFrom("/etc/ssl/ca.pem", "/var/lib/ntp/test ca.pem"), {
          nil: null,
        }),
        kePort: fc.oneof(fc.constant(4460), fc.integer({ min: 1, max: 65535 })),
        keServer: fc.option(fc.constantFrom("ke.example", "192.0.2.44", "2001:db8::44"), {
          nil: null,
        }),
        verifyCertificate: fc.boolean(),
      }),
      { nil: null },
    ),
  })
  .map(({ target, polls, ...rest }) => ({
    host: target.host,
    port: rest.port,
    family: target.family,
    iburst: rest.iburst,
    burst: rest.burst,
    prefer: rest.prefer,
    noselect: rest.noselect,
    minPollLog2: Math.min(...polls),
    maxPollLog2: Math.max(...polls),
    version: rest.version,
    nts: rest.nts,
  }));

const flags = fc.subarray([...restrictFlags]);
const restrictEntry: fc.Arbitrary<RestrictConfig> = fc.oneof(
  fc.record({
    kind: fc.constant("default" as const),
    family: fc.constantFrom<4 | 6 | null>(null, 4, 6),
    flags,
  }),
  fc
    .oneof(
      fc.tuple(fc.constant(4 as const), ipv4, fc.integer({ min: 0, max: 32 })),
      fc.tuple(fc.constant(6 as const), ipv6, fc.integer({ min: 0, max: 128 })),
    )
    .chain(([family, ip, prefixLength]) =>
      flags.map((f) => {
        const mask = prefixMaskBytes(family, prefixLength);
        const network = bytesToText(ipBytes(ip).map((b, k) => b & (mask[k] ?? 0)));
        return { kind: "network" as const, family, network, prefixLength, flags: f };
      })
    ),
);
/** Keeps the first rule of each address/mask, as a valid config must (repeats are errors or warnings). */
const distinctRules = (rules: RestrictConfig[]): RestrictConfig[] => {
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const keys = rule.kind === "default"
      ? (rule.family === null ? [4, 6] : [rule.family]).map((f) => `${f} default`)
      : [`${rule.family} ${rule.network}/${rule.prefixLength}`];
    if (keys.some((key) => seen.has(key))) return false;
    keys.forEach((key) => seen.add(key));
    return true;
  });
};

const upstreams = fc.uniqueArray(fc.record({ pool: fc.boolean(), upstream }), {
  maxLength: 8,
  selector: (u) => `${u.upstream.host} ${u.upstream.port}`,
});

const finite = (min: number, max: number): fc.Arbitrary<number> =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((x) => x + 0);

const config: fc.Arbitrary<NtpConfig> = fc
  .record({
    driftFile: path,
    logFile: path,
    leapFile: path,
    statsDir: path,
    statistics: fc.subarray(["loopstats", "peerstats", "rawstats", "sysstats"] as const).chain(
      (kinds) =>
        fc.tuple(
          ...kinds.map((kind) =>
            fc.record({
              kind: fc.constant(kind),
              fileName: fc.constantFrom(kind, `${kind}-ours`),
              generation: fc.constantFrom(...GENERATION_TYPES),
              link: fc.boolean(),
            })
          ),
        ),
    ),
    listen,
    upstreams,
    restrict: fc.array(restrictEntry, { maxLength: 6 }).map(distinctRules),
    clocks: fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 })),
    minSane: fc.integer({ min: 1, max: 15 }),
    orphanStratum: fc.integer({ min: 1, max: 16 }),
    orphanWaitSeconds: finite(0, 86400),
    tinker: fc.record({
      stepThresholdSeconds: finite(0, 86400),
      panicThresholdSeconds: finite(0, 31622400),
      stepoutSeconds: finite(1, 86400),
    }),
    discard: fc.record({
      averageLog2: fc.integer({ min: 0, max: 17 }),
      minimumSeconds: finite(0, 3600),
      monitorEntries: fc.integer({ min: 16, max: 16777216 }),
      burstPackets: fc.integer({ min: 1, max: 1024 }),
    }),
    serve: fc.record({
      workers: fc.oneof(fc.constant("auto" as const), fc.integer({ min: 1, max: 256 })),
      clock: fc.constantFrom("auto" as const, "kernel" as const, "soft" as const),
      logLevel: fc.constantFrom(
        "trace" as const,
        "debug" as const,
        "info" as const,
        "warning" as const,
        "error" as const,
        "fatal" as const,
      ),
    }),
    smearInterval: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 86400 })),
    smearSome: fc.option(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), { nil: null }),
    pick: fc.record({
      candidatesFile: path,
      replaceAfterPolls: fc.integer({ min: 1, max: 1024 }),
    }),
    metricsListen: fc.option(
      listen.map((addresses) => addresses[0]!),
      { nil: null },
    ),
    nts: fc.record({
      files: fc.option(
        fc.tuple(fc.constant("/etc/ntp/cert.pem"), fc.constant("/etc/ntp/key.pem")),
        {
          nil: null,
        },
      ),
      enable: fc.boolean(),
      cookieKeysFile: path,
      listen,
      rotateSeconds: fc.integer({ min: 60, max: 31536000 }),
      keepKeys: fc.integer({ min: 1, max: 15 }),
      maxConnections: fc.integer({ min: 1, max: 65536 }),
      timeoutSeconds: finite(0.05, 60),
      perSourceRate: finite(0.001, 1000000),
      perSourceBurst: fc.integer({ min: 1, max: 1000000 }),
    }),
  })
  // structuredClone: fast-check may build null-prototype records; the loader builds plain objects.
  .map((g) =>
    structuredClone({
      driftFile: g.driftFile,
      logFile: g.logFile,
      leapFile: g.leapFile,
      statsDir: g.statsDir,
      statistics: g.statistics,
      listen: g.listen,
      servers: g.upstreams.filter((u) => !u.pool).map((u) => u.upstream),
      pools: g.upstreams.filter((u) => u.pool).map((u) => u.upstream),
      restrict: g.restrict,
      tos: {
        minSane: g.minSane,
        minClock: Math.min(...g.clocks),
        maxClock: Math.max(...g.clocks),
        orphanStratum: g.orphanStratum,
        orphanWaitSeconds: g.orphanWaitSeconds,
      },
      tinker: g.tinker,
      discard: g.discard,
      serve: g.serve,
      metrics: { listen: g.metricsListen },
      nts: {
        enable: g.nts.files !== null && g.nts.enable,
        certificateFile: g.nts.files?.[0] ?? null,
        keyFile: g.nts.files?.[1] ?? null,
        cookieKeysFile: g.nts.cookieKeysFile,
        listen: g.nts.listen,
        rotateSeconds: g.nts.rotateSeconds,
        keepKeys: g.nts.keepKeys,
        aeadIds: [15],
        maxConnections: g.nts.maxConnections,
        timeoutSeconds: g.nts.timeoutSeconds,
        perSourceRate: g.nts.perSourceRate,
        perSourceBurst: g.nts.perSourceBurst,
      },
      leapSmear: leapSmearOf(g),
      pick: g.pick,
    })
  );

/** The [leapsmear] of a generated config: off with NTS (refused together), else some listeners. */
function leapSmearOf(g: {
  readonly smearInterval: number;
  readonly smearSome: readonly number[] | null;
  readonly listen: readonly ListenAddress[];
  readonly nts: { readonly files: unknown; readonly enable: boolean };
}): NtpConfig["leapSmear"] {
  const intervalSeconds = g.nts.files !== null && g.nts.enable ? 0 : g.smearInterval;
  if (intervalSeconds === 0) return { intervalSeconds, listen: [] };
  if (g.smearSome === null) return { intervalSeconds, listen: null };
  const picked = [...new Set(g.smearSome.map((i) => i % g.listen.length))].sort((a, b) => a - b);
  return { intervalSeconds, listen: picked.map((i) => g.listen[i]!) };
}

Deno.test("config -> TOML -> config is the identity", () => {
  fc.assert(
    fc.property(config, (original) => {
      const text = configToToml(original);
      const loaded = parseConfigText(text, { fileName: "roundtrip.toml" });
      assert.deepEqual(loaded, original);
    }),
    { numRuns: propertyRuns(500) },
  );
});

/** Calls the loader and fails on any exception that is not a ConfigError. */
function loadsOrConfigError(text: string, format: ConfigFormat): void {
  try {
    parseConfigText(text, { fileName: "random", format });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.ok(error.diagnostics.some((d) => d.severity === "error"));
    for (const d of error.diagnostics) {
      assert.ok(d.line >= 1 && d.column >= 1, `bad position ${d.line}:${d.column}`);
    }
  }
}

const schemaKeys = configSchema.flatMap((s) => [s.name, ...s.fields.map((f) => f.key)])
  .filter((k) => k !== "");
const key = fc.oneof(
  fc.constantFrom(...schemaKeys, ...Object.keys(unsupportedDirectives)),
  fc.string({ maxLength: 8 }),
  fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty"),
);
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("default", "auto", "0.0.0.0:123", "[::1]:123", "10.0.0.0/8", "kod", "/tmp/x"),
  fc.integer({ min: -5, max: 70000 }),
  fc.double(),
  fc.boolean(),
);
const tomlTree = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    scalar,
    fc.array(scalar, { maxLength: 4 }),
    tie("table"),
    fc.array(tie("table"), { maxLength: 3 }),
  ),
  table: fc.dictionary(key, tie("value"), { maxKeys: 5 }),
}));

Deno.test("random TOML documents load or fail with ConfigError only", () => {
  fc.assert(
    fc.property(tomlTree.table, (tree) => {
      let text: string;
      try {
        text = stringify(tree);
      } catch {
        return; // a tree TOML cannot express (e.g. mixed arrays in old TOML); nothing to load
      }
      loadsOrConfigError(text, "toml");
    }),
    { numRuns: propertyRuns(1000) },
  );
});

Deno.test("random raw documents never crash the resolver", () => {
  const source = {
    fileName: "raw",
    position: () => ({ line: 1, column: 1 }),
    label: (p: string) => p,
  };
  fc.assert(
    fc.property(fc.dictionary(key, fc.anything({ maxDepth: 3 }), { maxKeys: 6 }), (document) => {
      resolveConfig(document, source);
    }),
    { numRuns: propertyRuns(1000) },
  );
});

const reference = Deno.readTextFileSync(repoPath("conf/ntp.toml"));
const seed = Deno.readTextFileSync(repoPath("tests/testdata/config/seed-ntp.conf"));

/** Text mutated line by line: lines dropped, duplicated, cut, or with random text spliced in. */
const mutated = (base: string): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom("drop", "dup", "cut", "splice"),
        fc.string({ unit: "binary", maxLength: 6 }),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((edits) => {
      const lines = base.split("\n");
      for (const [at, kind, junk] of edits) {
        const i = at % lines.length;
        const line = lines[i] ?? "";
        if (kind === "drop") lines.splice(i, 1);
        else if (kind === "dup") lines.splice(i, 0, line);
        else if (kind === "cut") lines[i] = line.slice(0, at % (line.length + 1));
        else {lines[i] = line.slice(0, at % (line.length + 1)) + junk +
            line.slice(at % (line.length + 1));}
      }
      return lines.join("\n");
    });

Deno.test("random and mutated text never crashes the loader in either format", () => {
  const words = fc.constantFrom(
    "server",
    "pool",
    "restrict",
    "-4",
    "-6",
    "default",
    "mask",
    "255.255.0.0",
    "iburst",
    "minpoll",
    "tos",
    "tinker",
    "discard",
    "interface",
    "listen",
    "ignore",
    "wildcard",
    "driftfile",
    "peer",
    "__proto__",
    "constructor",
    "10.0.0.0/8",
    "::1",
    "#",
    "17",
  );
  const confLines = fc.array(
    fc.array(fc.oneof(words, fc.string({ maxLength: 5 })), { maxLength: 6 }),
  )
    .map((lines) => lines.map((tokens) => tokens.join(" ")).join("\n"));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 200 }),
        confLines,
        mutated(reference),
        mutated(seed),
      ),
      fc.constantFrom<ConfigFormat>("toml", "ntp.conf"),
      (text, format) => loadsOrConfigError(text, format),
    ),
    { numRuns: propertyRuns(2000) },
  );
});

Deno.test("the TOML position index terminates on any text", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), mutated(reference)),
      (text) => {
        indexTomlPositions(text);
      },
    ),
    { numRuns: propertyRuns(1000) },
  );
});

Deno.test("the identity property is not vacuous: a changed config writes different TOML", () => {
  const text = Deno.readTextFileSync(repoPath("conf/ntp.toml"));
  const loaded = checkConfigText(text, { fileName: "ntp.toml" }).config;
  assert.ok(loaded);
  const changed: NtpConfig = { ...loaded, tinker: { ...loaded.tinker, stepThresholdSeconds: 0.5 } };
  assert.notDeepEqual(parseConfigText(configToToml(changed), { fileName: "x.toml" }), loaded);
  assert.deepEqual(parseConfigText(configToToml(loaded), { fileName: "x.toml" }), loaded);
});
