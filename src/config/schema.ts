// The configuration schema: every TOML key with its type, default, ntp.conf equivalent and doc, in one place.
//
// Validation (build_config.ts), defaults, the TOML writers and the README reference (reference_markdown.ts)
// are all derived from the tables below; adding a key here is the only way to add a key.
import { MAX_LEAP_SMEAR_SECONDS } from "../core/leap/leap_smear.ts";
import type { RestrictFlag } from "../core/server/types.ts";
import { STATS_KINDS, UNSUPPORTED_STATS_KINDS } from "../core/stats/stats_lines.ts";
import { GENERATION_TYPES } from "../core/stats/file_generation.ts";

/** How a key's value is checked and shown. */
export type ValueType =
  /** An absolute file or directory path; absent means "none". */
  | "path"
  /** A non-empty string (addresses; parsed further by the section). */
  | "string"
  | "boolean"
  | "integer"
  /** A finite number, integer or not. */
  | "number"
  /** One of `values`. */
  | "enum"
  /** "auto" or an integer in min..max. */
  | "integerOrAuto"
  /** A list of strings (addresses). */
  | "stringList"
  /** A list of words from `values`. */
  | "flagList";

/** A default as it would be written in TOML; null means "none" (or "required" with `required`). */
export type TomlDefault = string | number | boolean | readonly string[] | null;

/** One key of a section. */
export interface FieldSpec {
  /** The TOML key, spelled as the ntp.conf directive or option it mirrors. */
  readonly key: string;
  /** The resolved NtpConfig property, for sections that map keys one to one. */
  readonly field?: string;
  readonly type: ValueType;
  readonly default: TomlDefault;
  /** The key must be given (no default). */
  readonly required?: true;
  readonly min?: number;
  readonly max?: number;
  /** Unit of a number, shown with the allowed range ("log2 s", "s"). */
  readonly unit?: string;
  /** Allowed words of an enum or flag list. */
  readonly values?: readonly string[];
  /** Words of a flag list ntpd has and ntp refuses as "not supported yet". */
  readonly unsupportedValues?: readonly string[];
  /** What one word of a flag list is called in messages; default "flag". */
  readonly valueName?: string;
  /** The ntp.conf spelling; "-" when ntp.conf has no equivalent. */
  readonly ntpConf: string;
  /** One or two sentences for the README reference. */
  readonly doc: string;
}

/** One section: the top level, a table (`[tos]`) or an array of tables (`[[server]]`). */
export interface SectionSpec {
  /** Table name; "" for top-level keys. */
  readonly name: string;
  readonly shape: "root" | "table" | "arrayOfTables";
  /** The ntp.conf spelling of the section. */
  readonly ntpConf: string;
  readonly doc: string;
  readonly fields: readonly FieldSpec[];
}

/** The restrict flags we implement, in canonical order (the order of RestrictFlag in core/server/types.ts). */
export const restrictFlags: readonly RestrictFlag[] = [
  "ignore",
  "noserve",
  "noquery",
  "nomodify",
  "notrap",
  "nopeer",
  "kod",
  "limited",
];

/** Default listen addresses: both wildcards on port 123. */
export const defaultListen: readonly string[] = ["0.0.0.0:123", "[::]:123"];

/** Default NTP port of upstreams and listen addresses. */
export const ntpPort = 123;

const upstreamFields = (directive: "server" | "pool"): readonly FieldSpec[] => [
  {
    key: "address",
    type: "string",
    default: null,
    required: true,
    ntpConf: `${directive} ADDRESS`,
    doc: directive === "server"
      ? "Host name or IP address of the upstream; `HOST:PORT` or `[IPv6]:PORT` for another port."
      : "Host name of the pool; each address it resolves to becomes an upstream.",
  },
  {
    key: "port",
    type: "integer",
    default: ntpPort,
    min: 1,
    max: 65535,
    ntpConf: "port N (extension)",
    doc: "UDP port of the upstream.",
  },
  {
    key: "ipv4",
    type: "boolean",
    default: false,
    ntpConf: `${directive} -4 ADDRESS`,
    doc: "Resolve the name to IPv4 addresses only.",
  },
  {
    key: "ipv6",
    type: "boolean",
    default: false,
    ntpConf: `${directive} -6 ADDRESS`,
    doc: "Resolve the name to IPv6 addresses only.",
  },
  {
    key: "iburst",
    type: "boolean",
    default: false,
    ntpConf: "iburst",
    doc: "While the upstream is unreachable, poll with a burst of packets to synchronise sooner; " +
      "also allows extra requests (at least 16 s apart) while the frequency is being learnt " +
      "in the first 15 minutes and when the clock seems to have changed.",
  },
  {
    key: "burst",
    type: "boolean",
    default: false,
    ntpConf: "burst",
    doc: "Send a burst of packets at every poll; only with the upstream operator's consent.",
  },
  {
    key: "prefer",
    type: "boolean",
    default: false,
    ntpConf: "prefer",
    doc: "Prefer this upstream when several good ones survive selection.",
  },
  {
    key: "noselect",
    type: "boolean",
    default: false,
    ntpConf: "noselect",
    doc: "Poll and show this upstream, but never use it to steer the clock.",
  },
  {
    key: "minpoll",
    type: "integer",
    default: 6,
    min: 3,
    max: 17,
    unit: "log2 s",
    ntpConf: "minpoll N",
    doc: "Shortest poll interval as a power of two seconds (6 = 64 s).",
  },
  {
    key: "maxpoll",
    type: "integer",
    default: 10,
    min: 3,
    max: 17,
    unit: "log2 s",
    ntpConf: "maxpoll N",
    doc: "Longest poll interval as a power of two seconds (10 = 1024 s); not below minpoll.",
  },
  {
    key: "version",
    type: "integer",
    default: 4,
    min: 1,
    max: 4,
    ntpConf: "version N",
    doc: "NTP version number sent in requests.",
  },
  {
    key: "nts",
    type: "boolean",
    default: false,
    ntpConf: "nts",
    doc: "Authenticate this upstream with NTS (RFC 8915): a TLS key exchange with the host on " +
      "TCP `nts_ke_port` (certificate checked against the name as written here), then only " +
      "authenticated replies count; never falls back to plain NTP.",
  },
  {
    key: "nts_ca",
    type: "path",
    default: null,
    ntpConf: "ca FILE",
    doc: "PEM file of the CA certificates trusted for this upstream's NTS-KE; default the " +
      "system's trust store. Needs `nts = true`.",
  },
  {
    key: "nts_ke_server",
    type: "string",
    default: null,
    ntpConf: "ask HOST[:PORT]",
    doc: "Run NTS-KE with this host (`HOST[:PORT]`) instead of the server itself; its " +
      "certificate must carry this name. NTP goes where it says, else to the server. Needs " +
      "`nts = true`.",
  },
  {
    key: "nts_noval",
    type: "boolean",
    default: false,
    ntpConf: "noval",
    doc:
      "Do NOT check the NTS-KE server's certificate (NTPsec's `noval`): anyone on the path can " +
      "then pose as the server. For tests only; logged as a warning at every start.",
  },
  {
    key: "nts_ke_port",
    type: "integer",
    default: 4460,
    min: 1,
    max: 65535,
    ntpConf: "server HOST:PORT nts",
    doc: "TCP port of the upstream's NTS-KE server (with `nts = true`, a port written in " +
      "`address` is this port, as NTPsec reads `server HOST:PORT nts`); NTP then goes where the " +
      "server says (its Server and Port Negotiation records), else to `port`.",
  },
];

/** Every section, in the order the README and the writers present them. */
export const configSchema: readonly SectionSpec[] = [
  {
    name: "",
    shape: "root",
    ntpConf: "-",
    doc: "Files, and where to listen. Each key mirrors the ntp.conf directive of the same name.",
    fields: [
      {
        key: "driftfile",
        field: "driftFile",
        type: "path",
        default: null,
        ntpConf: "driftfile FILE",
        doc: "File that keeps the clock's frequency error (ppm) across restarts. A missing " +
          "directory is a warning (the systemd unit's StateDirectory creates /var/lib/ntp).",
      },
      {
        key: "logfile",
        field: "logFile",
        type: "path",
        default: null,
        ntpConf: "logfile FILE",
        doc: "Also write the log to this file (it always goes to stderr). A missing directory is " +
          "a warning (the systemd unit's LogsDirectory creates /var/log/ntp).",
      },
      {
        key: "leapfile",
        field: "leapFile",
        type: "path",
        default: null,
        ntpConf: "leapfile FILE",
        doc:
          "The IANA leap-seconds.list (default: tzdata's /usr/share/zoneinfo/leap-seconds.list " +
          "when present): checked (its hash, its order; re-read when it changes); while it has " +
          "not expired it alone decides which leap second is announced and inserted; mode 6 " +
          "shows `tai`, `leapsec`, `expire`; `ntp doctor` warns before it expires.",
      },
      {
        key: "statsdir",
        field: "statsDir",
        type: "path",
        default: null,
        ntpConf: "statsdir DIR",
        doc: "Directory of the statistics files named by `statistics` (ntpd's loopstats, " +
          "peerstats, rawstats, sysstats lines, one file per day by default, read by NTPsec's " +
          "ntpviz and drawn by `ntp plot`). Nothing is written unless `statistics` names a file, " +
          "nor without statsdir (a warning says so). /var/log/ntp is the systemd unit's " +
          "LogsDirectory; for another directory under /var/log add `LogsDirectory=NAME` in a " +
          "drop-in (the unit has ProtectSystem=strict and a dynamic user); `ntp doctor` checks it.",
      },
      {
        key: "statistics",
        type: "flagList",
        default: [],
        values: STATS_KINDS,
        unsupportedValues: UNSUPPORTED_STATS_KINDS,
        valueName: "statistics file",
        ntpConf: "statistics NAME ...",
        doc: "Statistics files to write into `statsdir`: `loopstats` (each clock update: offset, " +
          "frequency, jitter, wander, poll), `peerstats` (each upstream sample: status word, " +
          "offset, delay, dispersion, jitter), `rawstats` (each upstream reply's four " +
          "timestamps and header), `sysstats` (the server's packet counters, hourly); " +
          "`clockstats` is accepted and writes nothing (no reference clocks). Lines are queued " +
          "and appended in the background; a full disk is logged once and serving goes on.",
      },
      {
        key: "listen",
        type: "stringList",
        default: defaultListen,
        ntpConf: "interface listen ADDRESS, interface ignore wildcard",
        doc:
          "IP addresses to answer on, as `ADDRESS:PORT` or `[IPv6]:PORT` (port 123 when left out).",
      },
    ],
  },
  {
    name: "server",
    shape: "arrayOfTables",
    ntpConf: "server [-4|-6] ADDRESS [OPTIONS]",
    doc: "One `[[server]]` table per upstream time server.",
    fields: upstreamFields("server"),
  },
  {
    name: "pool",
    shape: "arrayOfTables",
    ntpConf: "pool [-4|-6] NAME [OPTIONS]",
    doc:
      "One `[[pool]]` table per pool name (for example `pool.ntp.org`); its addresses become upstreams.",
    fields: upstreamFields("pool"),
  },
  {
    name: "restrict",
    shape: "arrayOfTables",
    ntpConf: "restrict [-4|-6] ADDRESS [mask MASK] [FLAGS]",
    doc:
      "Access rules. The most specific rule matching a client applies; a client matching none, " +
      "or any client when there are no rules, is unrestricted.",
    fields: [
      {
        key: "address",
        type: "string",
        default: null,
        required: true,
        ntpConf: "restrict ADDRESS",
        doc:
          '`"default"` (every address), an IP address (that host only) or a CIDR network `10.0.0.0/8`.',
      },
      {
        key: "mask",
        type: "string",
        default: null,
        ntpConf: "mask MASK",
        doc:
          "Network mask for `address`, e.g. `255.255.255.0`; must be contiguous. Not with CIDR or default.",
      },
      {
        key: "ipv4",
        type: "boolean",
        default: false,
        ntpConf: "restrict -4 ADDRESS",
        doc:
          'With `address = "default"`: the rule covers IPv4 only (without ipv4/ipv6 it covers both).',
      },
      {
        key: "ipv6",
        type: "boolean",
        default: false,
        ntpConf: "restrict -6 ADDRESS",
        doc: 'With `address = "default"`: the rule covers IPv6 only.',
      },
      {
        key: "flags",
        type: "flagList",
        default: [],
        values: restrictFlags,
        ntpConf: "FLAG FLAG ...",
        doc: "ignore: drop all packets; noserve: no time service; noquery: no mode 6 queries; " +
          "nomodify, notrap, nopeer: accepted for ntp.conf compatibility and without effect " +
          "(no client may ever change the configuration at run time, set traps or peer); " +
          "kod: send a Kiss-o'-Death when rate-limited; limited: apply the `[discard]` rate limits.",
      },
    ],
  },
  {
    name: "filegen",
    shape: "arrayOfTables",
    ntpConf: "filegen NAME [file FILE] [type TYPE] [link|nolink] [enable|disable]",
    doc: "How one statistics file set is named and split (ntpd's `filegen`); a set without a " +
      "`[[filegen]]` table is written as `NAME.YYYYMMDD` with `NAME` linked to today's file.",
    fields: [
      {
        key: "name",
        type: "string",
        default: null,
        required: true,
        ntpConf: "filegen NAME",
        doc: "Which statistics: `loopstats`, `peerstats`, `rawstats`, `sysstats` or `clockstats`.",
      },
      {
        key: "file",
        type: "string",
        default: null,
        ntpConf: "file FILE",
        doc: "Base name of the files inside `statsdir` (default: `name`); no `/`.",
      },
      {
        key: "type",
        type: "enum",
        default: "day",
        values: GENERATION_TYPES,
        ntpConf: "type TYPE",
        doc: "When a new file starts (UTC): `day` (FILE.20261207), `week` (FILE.2026w50, ISO " +
          "weeks), `month` (FILE.202612), `year` (FILE.2026), `age` (every 24 h of uptime, " +
          "FILE.a00086400), `pid` (per process, FILE.#1234) or `none` (FILE itself).",
      },
      {
        key: "link",
        type: "boolean",
        default: true,
        ntpConf: "link, nolink",
        doc: "Keep `FILE` as a hard link to the current file (ntpd's default).",
      },
      {
        key: "enable",
        type: "boolean",
        default: null,
        ntpConf: "enable, disable",
        doc: "Write this set (true) or not (false) whatever `statistics` says; unset: as " +
          "`statistics` says.",
      },
    ],
  },
  {
    name: "tos",
    shape: "table",
    ntpConf: "tos OPTION VALUE ...",
    doc: "Selection and orphan-mode settings.",
    fields: [
      {
        key: "minsane",
        field: "minSane",
        type: "integer",
        default: 1,
        min: 1,
        max: 15,
        ntpConf: "tos minsane N",
        doc: "Fewest agreeing upstreams needed before the server calls itself synchronised.",
      },
      {
        key: "minclock",
        field: "minClock",
        type: "integer",
        default: 3,
        min: 1,
        max: 100,
        ntpConf: "tos minclock N",
        doc: "Fewest survivors the cluster algorithm keeps.",
      },
      {
        key: "maxclock",
        field: "maxClock",
        type: "integer",
        default: 10,
        min: 1,
        max: 100,
        ntpConf: "tos maxclock N",
        doc: "Most upstreams kept, including those a pool adds; not below minclock.",
      },
      {
        key: "orphan",
        field: "orphanStratum",
        type: "integer",
        default: 16,
        min: 1,
        max: 16,
        ntpConf: "tos orphan STRATUM",
        doc: "Stratum served in orphan mode, when no upstream is usable; 16 = orphan mode off.",
      },
      {
        key: "orphanwait",
        field: "orphanWaitSeconds",
        type: "number",
        default: 300,
        min: 0,
        max: 86400,
        unit: "s",
        ntpConf: "tos orphanwait SECONDS",
        doc: "Seconds without a usable upstream before orphan mode starts.",
      },
    ],
  },
  {
    name: "tinker",
    shape: "table",
    ntpConf: "tinker OPTION VALUE ...",
    doc: "Clock discipline thresholds.",
    fields: [
      {
        key: "step",
        field: "stepThresholdSeconds",
        type: "number",
        default: 0.128,
        min: 0,
        max: 86400,
        unit: "s",
        ntpConf: "tinker step SECONDS",
        doc: "Offsets larger than this are stepped instead of slewed; 0 = never step.",
      },
      {
        key: "panic",
        field: "panicThresholdSeconds",
        type: "number",
        default: 1000,
        min: 0,
        max: 31622400,
        unit: "s",
        ntpConf: "tinker panic SECONDS",
        doc:
          "Offsets larger than this are never stepped: the clock is left alone (not synchronised) and the refusal is logged, until the offset comes back under it; unlike ntpd the daemon keeps running, and the first step is no exception. 0 = no limit.",
      },
      {
        key: "stepout",
        field: "stepoutSeconds",
        type: "number",
        default: 900,
        min: 1,
        max: 86400,
        unit: "s",
        ntpConf: "tinker stepout SECONDS",
        doc: "How long an offset must stay above `step` before the clock is stepped.",
      },
    ],
  },
  {
    name: "discard",
    shape: "table",
    ntpConf: "discard OPTION VALUE ...",
    doc: "Rate limits for clients matched by a `limited` restrict rule.",
    fields: [
      {
        key: "average",
        field: "averageLog2",
        type: "integer",
        default: 3,
        min: 0,
        max: 17,
        unit: "log2 s",
        ntpConf: "discard average N",
        doc: "Long-term average interval a client may use, as a power of two seconds (3 = 8 s).",
      },
      {
        key: "minimum",
        field: "minimumSeconds",
        type: "number",
        default: 2,
        min: 0,
        max: 3600,
        unit: "s",
        ntpConf: "discard minimum SECONDS",
        doc: "Minimum spacing of a client's packets; closer packets use up its burst credit.",
      },
      {
        key: "monitor",
        field: "monitorEntries",
        type: "integer",
        default: 65536,
        min: 16,
        max: 16777216,
        ntpConf: "discard monitor N",
        doc:
          "Most clients remembered per responder thread, for rate limiting and `ntpq -c mrulist` " +
          "(an entry count, unlike ntpd's; about 90 bytes each).",
      },
      {
        key: "burst",
        field: "burstPackets",
        type: "integer",
        default: 16,
        min: 1,
        max: 1024,
        ntpConf: "discard burst N (extension)",
        doc:
          "Packets a client may send back to back before being limited; 16 lets an `iburst` (8) " +
          "and a few monitoring queries through.",
      },
    ],
  },
  {
    name: "serve",
    shape: "table",
    ntpConf: "-",
    doc: "Settings of this implementation.",
    fields: [
      {
        key: "workers",
        field: "workers",
        type: "integerOrAuto",
        default: "auto",
        min: 1,
        max: 256,
        ntpConf: "-",
        doc: 'Responder threads; `"auto"` = one per CPU.',
      },
      {
        key: "clock",
        field: "clock",
        type: "enum",
        default: "auto",
        values: ["auto", "kernel", "soft"],
        ntpConf: "-",
        doc: "kernel: discipline the system clock (needs CAP_SYS_TIME); soft: serve a corrected " +
          "clock without touching the system clock; auto: kernel when permitted, else soft.",
      },
      {
        key: "log_level",
        field: "logLevel",
        type: "enum",
        default: "info",
        values: ["trace", "debug", "info", "warning", "error", "fatal"],
        ntpConf: "-",
        doc: "Lowest level logged, to stderr and the log file alike; `--log-level` overrides it.",
      },
    ],
  },
  {
    name: "metrics",
    shape: "table",
    ntpConf: "-",
    doc: "An opt-in Prometheus endpoint: `GET /metrics` over HTTP in the text exposition format " +
      "0.0.4, with the same values `ntp status --json` shows.",
    fields: [
      {
        key: "listen",
        type: "string",
        default: null,
        ntpConf: "-",
        doc: 'IP address and TCP port to serve on, e.g. `"127.0.0.1:9123"` or `"[::1]:9123"`; ' +
          "none = no endpoint. It has no access control: keep it on loopback or a management network.",
      },
    ],
  },
  {
    name: "nts",
    shape: "table",
    ntpConf: "nts",
    doc: "Serve Network Time Security (RFC 8915): an NTS-KE server (TLS 1.3 on TCP 4460) hands " +
      "out keys and cookies, and the NTP responders answer NTS-authenticated requests beside " +
      "plain ones on the same port. Needs OpenSSL 3 (libssl.so.3) and the fast I/O back end; " +
      "AES-SIV runs on Nettle (libnettle.so.8, as chronyd's does) when it is installed, else " +
      "on OpenSSL, which is slower (logged at start; see the NTS figures in the README).",
    fields: [
      {
        key: "enable",
        type: "boolean",
        default: false,
        ntpConf: "nts enable",
        doc: "Serve NTS. Needs `cert` and `key`.",
      },
      {
        key: "cert",
        type: "path",
        default: null,
        ntpConf: "nts cert",
        doc: "The certificate chain (PEM, the server's certificate first), e.g. certbot's " +
          "fullchain.pem. Clients check its name (or IP address) against the name they use.",
      },
      {
        key: "key",
        type: "path",
        default: null,
        ntpConf: "nts key",
        doc: "The certificate's private key (PEM).",
      },
      {
        key: "cookie_keys",
        type: "path",
        default: null,
        ntpConf: "nts cookie",
        doc: "File holding the keys cookies are sealed with (written with mode 0600), so that a " +
          "restart keeps issued cookies valid and several servers can share them. None = keys " +
          "live in memory only: after a restart every client must run NTS-KE again.",
      },
      {
        key: "listen",
        type: "stringList",
        default: ["[::]:4460"],
        ntpConf: "-",
        doc: "Addresses and TCP ports of the NTS-KE server. `[::]` takes IPv4 too (dual stack); " +
          'where IPv6 is off, give `["0.0.0.0:4460"]`.',
      },
      {
        key: "rotate",
        type: "integer",
        default: 86400,
        min: 60,
        max: 31536000,
        unit: "s",
        ntpConf: "-",
        doc: "A new cookie key every so often; cookies sealed under the previous keys stay valid " +
          "while those keys are kept.",
      },
      {
        key: "keep",
        type: "integer",
        default: 7,
        min: 1,
        max: 15,
        ntpConf: "-",
        doc: "Previous cookie keys still accepted (with the default `rotate`, a cookie lives a " +
          "week: a client polling once a day keeps working).",
      },
      {
        key: "aead",
        type: "flagList",
        default: ["AES_SIV_CMAC_256"],
        values: ["AES_SIV_CMAC_256"],
        ntpConf: "nts aead",
        doc: "AEAD algorithms offered, in order of preference (AES-128-GCM-SIV needs OpenSSL " +
          "3.2, newer than Debian 12's, and is not offered yet).",
      },
      {
        key: "max_connections",
        type: "integer",
        default: 512,
        min: 1,
        max: 65536,
        ntpConf: "-",
        doc: "NTS-KE connections open at once; more are closed at once.",
      },
      {
        key: "timeout",
        type: "number",
        default: 1,
        min: 0.05,
        max: 60,
        unit: "s",
        ntpConf: "-",
        doc: "An NTS-KE exchange (handshake, request, answer) must end within this.",
      },
      {
        key: "per_source_rate",
        type: "number",
        default: 20,
        min: 0.001,
        max: 1000000,
        unit: "connections/s",
        ntpConf: "-",
        doc: "NTS-KE connections per second one IP address may open, sustained; more are closed.",
      },
      {
        key: "per_source_burst",
        type: "integer",
        default: 40,
        min: 1,
        max: 1000000,
        ntpConf: "-",
        doc: "NTS-KE connections one IP address may open in a burst.",
      },
    ],
  },
  {
    name: "leapsmear",
    shape: "table",
    ntpConf: "leapsmearinterval",
    doc: "Leap smearing for private networks, as NTPsec's `leapsmearinterval`: on the smearing " +
      "listen addresses the served time takes up a leap second gradually (linearly over the " +
      "interval that ends at the leap) and never announces it. Off by default; never on a " +
      "public server (the NTP pool forbids mixing smeared and true time, and `ntp doctor` fails " +
      "a public smearing address). The daemon then steps the clock itself at the leap (as " +
      "chronyd's `leapsecmode step`), for the kernel clock as well.",
    fields: [
      {
        key: "interval",
        type: "integer",
        default: 0,
        min: 0,
        max: MAX_LEAP_SMEAR_SECONDS,
        unit: "s",
        ntpConf: "leapsmearinterval SECONDS",
        doc: "Seconds over which a leap second is smeared, ending at the leap; 0 = no smearing. " +
          "NTPsec recommends 7200 to 86400 (a leap is known a day ahead at most).",
      },
      {
        key: "listen",
        type: "stringList",
        default: [],
        ntpConf: "-",
        doc: "Which of the `listen` addresses smear, as written there; empty = all of them. " +
          "The others serve true UTC with the leap announced and stepped.",
      },
    ],
  },
  {
    name: "pick",
    shape: "table",
    ntpConf: "-",
    doc: "Replacing upstream servers while serving: a `[[server]]` that stays unreachable (or " +
      "unsynchronised, or a falseticker) is swapped for the best unused server of a candidate " +
      "list, measured as `ntp pick` measures, without a restart.",
    fields: [
      {
        key: "candidates",
        field: "candidatesFile",
        type: "path",
        default: null,
        ntpConf: "-",
        doc: "Candidate list: one `HOST` or `HOST:PORT` per line, `#` comments " +
          "(like conf/candidates.txt). None = servers are never replaced.",
      },
      {
        key: "replace_after_polls",
        field: "replaceAfterPolls",
        type: "integer",
        default: 8,
        min: 1,
        max: 1024,
        unit: "polls",
        ntpConf: "-",
        doc: "Polls in a row a server may go unanswered, or be a falseticker, before it is " +
          "replaced; one that sends a Kiss-o'-Death DENY or RSTR is replaced at once.",
      },
    ],
  },
];

/**
 * ntpd directives we know but do not implement yet, with the reason shown to the user. They are
 * rejected as "not supported yet" both in ntp.conf and as TOML keys, never reported as typos.
 */
export const unsupportedDirectives: Readonly<Record<string, string>> = {
  peer: "symmetric peering is not supported yet; use server for an upstream",
  broadcast: "broadcast mode is not supported yet",
  broadcastclient: "broadcast client mode is not supported yet",
  manycastserver: "manycast is not supported yet",
  manycastclient: "manycast is not supported yet",
  crypto: "Autokey is not supported yet",
  keys: "symmetric-key authentication is not supported yet",
  trustedkey: "symmetric-key authentication is not supported yet",
  controlkey: "symmetric-key authentication is not supported yet",
  requestkey: "symmetric-key authentication is not supported yet",
  fudge: "reference clocks are not supported yet",
  refclock: "reference clocks are not supported yet",
};

const authentication = "symmetric-key authentication is not supported yet";
const notYet = (keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(keys.map((key) => [key, "not supported yet"]));

/**
 * Keys (ntp.conf options) of each section that ntpd has and we do not implement yet, with the
 * reason; "" holds the top-level directives. Rejected as "not supported yet", never as typos.
 */
export const unsupportedKeys: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "": unsupportedDirectives,
  server: {
    key: authentication,
    autokey: "Autokey is not supported yet",
    true: "the 'true' option is not supported yet",
    xleave: "interleaved mode is not supported yet",
    preempt: "preemptable associations are not supported yet",
    mode: "the 'mode' option is not supported yet",
    ttl: "the 'ttl' option is not supported yet",
    bias: "the 'bias' option is not supported yet",
    aead: "'aead' on a server is not supported yet; AES-SIV-CMAC-256 is offered",
  },
  pool: {
    key: authentication,
    autokey: "Autokey is not supported yet",
    true: "the 'true' option is not supported yet",
    xleave: "interleaved mode is not supported yet",
    preempt: "preemptable associations are not supported yet",
    aead: "'aead' on a pool is not supported yet; AES-SIV-CMAC-256 is offered",
  },
  restrict: {},
  filegen: {},
  tos: notYet(["ceiling", "floor", "cohort", "mindist", "maxdist", "beacon"]),
  tinker: notYet(["allan", "dispersion", "freq", "huffpuff"]),
  discard: {},
  serve: {},
  metrics: {},
  nts: {},
  leapsmear: {},
  pick: {},
};

/** ntpd restrict flags we do not implement yet; refused with "not supported yet". */
export const unsupportedRestrictFlags: readonly string[] = [
  "flake",
  "lowpriotrap",
  "mssntp",
  "nomrulist",
  "noepeer",
  "notrust",
  "ntpport",
  "version",
  "serverresponse",
];

/** A record's own value for a user-supplied key (never an inherited one such as "constructor"). */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Why a key of a section (or "" for top-level directives) is not supported yet, if it is one of those. */
export function unsupportedReason(section: string, key: string): string | undefined {
  const keys = ownValue(unsupportedKeys, section);
  return keys === undefined ? undefined : ownValue(keys, key);
}

/** Looks up a section by name ("" for the top level). */
export function sectionSpec(name: string): SectionSpec | undefined {
  return configSchema.find((section) => section.name === name);
}

/** Looks up a key of a section. */
export function fieldSpec(section: SectionSpec, key: string): FieldSpec | undefined {
  return section.fields.find((field) => field.key === key);
}

/** Names of the table sections (everything but the top level). */
export const sectionNames: readonly string[] = configSchema
  .filter((section) => section.shape !== "root")
  .map((section) => section.name);
