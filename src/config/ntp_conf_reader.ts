// Reads ntpd's ntp.conf into the same raw document a TOML file gives, with positions and comments.
//
// The raw document is resolved by build_config.ts exactly like TOML, so both formats produce the same
// NtpConfig and the same messages. Comments and unknown directives are kept for `ntp config import`.
import type { Diagnostic, SourcePosition } from "./diagnostics.ts";
import type { ConfigSource } from "./build_config.ts";
import { defaultListen, unsupportedReason } from "./schema.ts";
import { closestWord } from "./suggest.ts";
import { parseIpLiteral } from "./addresses.ts";

/** One piece of the import output, in file order, with the comments that belong to it. */
export type ImportItem =
  /** A top-level key (driftfile, logfile, leapfile, statsdir, listen). */
  | { readonly kind: "root"; readonly key: string; readonly comments: Comments }
  /** One [[server]], [[pool]] or [[restrict]] table. */
  | {
    readonly kind: "entry";
    readonly section: "server" | "pool" | "restrict" | "filegen";
    readonly index: number;
    readonly comments: Comments;
  }
  /** The [tos], [tinker] or [discard] table (all its directives merged). */
  | { readonly kind: "table"; readonly section: string; readonly comments: Comments }
  /** A directive ntp does not understand, kept as a comment. */
  | {
    readonly kind: "kept";
    readonly line: number;
    readonly text: string;
    readonly comments: Comments;
  }
  /** Comments after the last directive. */
  | { readonly kind: "trailing"; readonly comments: Comments };

/** Comment lines before a directive (verbatim, "" for a blank line between them) and the one after it. */
export interface Comments {
  readonly leading: string[];
  trailing: string[];
}

/** What reading an ntp.conf gives. */
export interface NtpConfDocument {
  /** The TOML-shaped raw document for resolveConfig(). */
  readonly document: Record<string, unknown>;
  /** Positions and labels of its key paths. */
  readonly source: ConfigSource;
  /** Problems the reader found itself (syntax, unknown directives). */
  readonly diagnostics: readonly Diagnostic[];
  /** The comment block at the top of the file, kept at the top of the import. */
  readonly header: readonly string[];
  readonly items: readonly ImportItem[];
}

interface Token {
  readonly text: string;
  readonly position: SourcePosition;
}

/** One directive line: its name (lower case), its token, and its arguments. */
interface Line {
  readonly directive: string;
  readonly head: Token;
  readonly args: readonly Token[];
}

/** Directives this reader understands. */
export const ntpConfDirectives: readonly string[] = [
  "driftfile",
  "logfile",
  "leapfile",
  "statsdir",
  "statistics",
  "filegen",
  "server",
  "pool",
  "restrict",
  "tos",
  "tinker",
  "discard",
  "interface",
  "nic",
  "nts",
  "leapsmearinterval",
];

const flagOptions = ["iburst", "burst", "prefer", "noselect", "nts", "noval"];
const valueOptions = ["minpoll", "maxpoll", "version", "port", "ca", "ask"];
/** ntp.conf option words whose TOML key is spelled otherwise. */
const optionKeys: Readonly<Record<string, string>> = {
  ca: "nts_ca",
  ask: "nts_ke_server",
  noval: "nts_noval",
};
const upstreamOptions = [...flagOptions, ...valueOptions];
const valuedUnsupported = ["key", "ttl", "mode", "bias", "aead"];

/** An ntp.conf number token as a number; anything else stays text for the resolver to reject. */
function numberToken(text: string): number | string {
  return /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : text;
}

/** A fresh table without a prototype, so keys like "__proto__" are plain keys. */
function table(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

function tokenize(code: string, line: number): Token[] {
  const tokens: Token[] = [];
  for (const match of code.matchAll(/\S+/g)) {
    tokens.push({ text: match[0], position: { line, column: (match.index ?? 0) + 1 } });
  }
  return tokens;
}

/**
 * Reads ntp.conf text. Unknown directives become warnings (and kept comments); directives ntpd
 * has but ntp does not implement yet, and malformed lines, become errors.
 *
 * @example
 * ```ts
 * const { document, source, diagnostics } = readNtpConf("server -4 a.example iburst\n", "ntp.conf");
 * // document: { server: [{ address: "a.example", ipv4: true, iburst: true }] }
 * ```
 */
export function readNtpConf(text: string, fileName: string): NtpConfDocument {
  const document = table();
  const places = new Map<string, { position: SourcePosition; label: string }>();
  const diagnostics: Diagnostic[] = [];
  const items: ImportItem[] = [];
  const tableItems = new Map<string, Comments>();
  let header: string[] = [];
  let pending: string[] = [];
  let seenDirective = false;

  const place = (path: string, at: { readonly token: Token; readonly label: string }): void => {
    if (!places.has(path)) places.set(path, { position: at.token.position, label: at.label });
  };
  const report = (severity: Diagnostic["severity"]) => (token: Token, message: string): void => {
    diagnostics.push({ severity, file: fileName, ...token.position, message });
  };
  const error = report("error");
  const warn = report("warning");
  const takeComments = (trailing: string | undefined): Comments => {
    while (pending[pending.length - 1] === "") pending.pop();
    const comments = { leading: pending, trailing: trailing === undefined ? [] : [trailing] };
    pending = [];
    return comments;
  };
  const entries = (section: string): Record<string, unknown>[] => {
    const list = (document[section] ??= []) as Record<string, unknown>[];
    return list;
  };

  // interface / nic state: wildcard per family, and explicit addresses with their tokens.
  let interfaceToken: Token | undefined;
  /** The comments of the `statistics` lines (all of them make one key). */
  let statisticsComments: Comments | undefined;
  let interfaceComments: Comments | undefined;
  const wildcard = { 4: true, 6: true };
  const listenTokens: Token[] = [];

  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, lineIndex) => {
    const lineNumber = lineIndex + 1;
    const hash = rawLine.indexOf("#");
    const code = hash < 0 ? rawLine : rawLine.slice(0, hash);
    const comment = hash < 0 ? undefined : rawLine.slice(hash).trimEnd();
    const tokens = tokenize(code, lineNumber);
    const [directiveToken, ...args] = tokens;
    if (directiveToken === undefined) {
      if (comment !== undefined) pending.push(comment);
      else if (pending.length > 0) {
        if (!seenDirective && header.length === 0) {
          header = pending;
          pending = [];
        } else pending.push("");
      }
      return;
    }
    seenDirective = true;
    const directive = directiveToken.text.toLowerCase();
    const comments = (): Comments => takeComments(comment);
    const line: Line = { directive, head: directiveToken, args };

    switch (directive) {
      case "driftfile":
      case "logfile":
      case "leapfile":
      case "statsdir": {
        const [value, ...extra] = args;
        if (value === undefined) return error(directiveToken, `${directive}: needs a path`);
        if (extra[0] !== undefined) {
          return error(extra[0], `${directive}: unexpected "${extra[0].text}"; give one path`);
        }
        if (Object.hasOwn(document, directive)) {
          return error(
            directiveToken,
            `${directive}: given twice; first at line ${places.get(directive)?.position.line}`,
          );
        }
        document[directive] = value.text;
        place(directive, { token: value, label: directive });
        items.push({ kind: "root", key: directive, comments: comments() });
        return;
      }
      case "statistics": {
        if (args.length === 0) {
          return error(directiveToken, "statistics: name the files, e.g. loopstats peerstats");
        }
        const list = (document.statistics ??= []) as string[];
        if (statisticsComments === undefined) {
          place("statistics", { token: directiveToken, label: directive });
          statisticsComments = comments();
          items.push({ kind: "root", key: "statistics", comments: statisticsComments });
        } else {
          const mine = comments();
          statisticsComments.leading.push(...mine.leading);
          statisticsComments.trailing.push(...mine.trailing);
        }
        for (const token of args) {
          place(`statistics[${list.length}]`, { token, label: directive });
          list.push(token.text);
        }
        return;
      }
      case "server":
      case "pool":
      case "restrict":
      case "filegen": {
        const list = entries(directive);
        const index = list.length;
        const path = `${directive}[${index}]`;
        const entry = directive === "restrict"
          ? readRestrict(line, path)
          : directive === "filegen"
          ? readFilegen(line, path)
          : readUpstream(line, path);
        if (entry === undefined) {
          for (const key of [...places.keys()]) {
            if (key.startsWith(`${path}.`)) places.delete(key);
          }
          if (list.length === 0) delete document[directive];
          return;
        }
        // ntpd applies each filegen line in turn: a second line for a set changes the first.
        const earlier = directive === "filegen"
          ? list.findIndex((other) => other.name === entry.name)
          : -1;
        if (earlier >= 0) {
          const target = list[earlier]!;
          for (const [key, value] of Object.entries(entry)) {
            if (key === "name") continue;
            target[key] = value;
            const at = places.get(`${path}.${key}`);
            if (at !== undefined) places.set(`filegen[${earlier}].${key}`, at);
          }
          for (const key of [...places.keys()]) {
            if (key.startsWith(`${path}.`)) places.delete(key);
          }
          const item = items.find((i) =>
            i.kind === "entry" && i.section === "filegen" && i.index === earlier
          );
          const mine = comments();
          item?.comments.leading.push(...mine.leading);
          item?.comments.trailing.push(...mine.trailing);
          return;
        }
        place(path, { token: directiveToken, label: directive });
        list.push(entry);
        items.push({ kind: "entry", section: directive, index, comments: comments() });
        return;
      }
      case "tos":
      case "tinker":
      case "discard": {
        readPairs(line);
        const existing = tableItems.get(directive);
        const mine = comments();
        if (existing === undefined) {
          tableItems.set(directive, mine);
          items.push({ kind: "table", section: directive, comments: mine });
        } else {
          existing.leading.push(...mine.leading);
          existing.trailing.push(...mine.trailing);
        }
        return;
      }
      case "leapsmearinterval": {
        const [value, ...extra] = args;
        if (value === undefined) return error(directiveToken, `${directive}: needs SECONDS`);
        if (extra[0] !== undefined) {
          return error(extra[0], `${directive}: unexpected "${extra[0].text}"; give one number`);
        }
        if (Object.hasOwn(document, "leapsmear")) {
          return error(
            directiveToken,
            `${directive}: given twice; first at line ${places.get("leapsmear")?.position.line}`,
          );
        }
        const smear = table();
        smear.interval = numberToken(value.text);
        document.leapsmear = smear;
        place("leapsmear", { token: directiveToken, label: directive });
        place("leapsmear.interval", { token: value, label: directive });
        items.push({ kind: "table", section: "leapsmear", comments: comments() });
        return;
      }
      case "nts": {
        readNts(line);
        const existing = tableItems.get("nts");
        const mine = comments();
        if (existing === undefined) {
          tableItems.set("nts", mine);
          items.push({ kind: "table", section: "nts", comments: mine });
        } else {
          existing.leading.push(...mine.leading);
          existing.trailing.push(...mine.trailing);
        }
        return;
      }
      case "interface":
      case "nic": {
        readInterface(line);
        interfaceToken ??= directiveToken;
        const mine = comments();
        if (interfaceComments === undefined) {
          interfaceComments = mine;
          items.push({ kind: "root", key: "listen", comments: mine });
        } else {
          interfaceComments.leading.push(...mine.leading);
          interfaceComments.trailing.push(...mine.trailing);
        }
        return;
      }
    }
    const unsupported = unsupportedReason("", directive);
    if (unsupported !== undefined) {
      error(directiveToken, `${directive}: ${unsupported}`);
      return;
    }
    const suggestion = closestWord(directive, ntpConfDirectives);
    warn(
      directiveToken,
      `unknown directive "${directiveToken.text}" is ignored and kept as a comment` +
        (suggestion === undefined ? "" : `; did you mean "${suggestion}"?`),
    );
    items.push({
      kind: "kept",
      line: lineNumber,
      text: code.trim(),
      comments: comments(),
    });

    function readUpstream(line: Line, path: string): Record<string, unknown> | undefined {
      const { head, args: rest } = line;
      const name = line.directive === "pool" ? "pool" : "server";
      const entry = table();
      let k = 0;
      const family = table();
      for (; rest[k]?.text === "-4" || rest[k]?.text === "-6"; k++) {
        const token = rest[k] as Token;
        const key = token.text === "-4" ? "ipv4" : "ipv6";
        family[key] = true;
        place(`${path}.${key}`, { token, label: `${name} ${token.text}` });
      }
      const address = rest[k];
      if (address === undefined) {
        error(head, `${name}: needs an address`);
        return undefined;
      }
      entry.address = address.text;
      Object.assign(entry, family);
      place(`${path}.address`, { token: address, label: name });
      for (k++; k < rest.length; k++) {
        const token = rest[k] as Token;
        const option = token.text;
        const label = `${name} ${option}`;
        if (option === "-4" || option === "-6") {
          error(token, `${name}: ${option} must come before the address`);
          continue;
        }
        const unsupportedOption = unsupportedReason(name, option);
        if (unsupportedOption !== undefined) {
          error(token, `${label}: ${unsupportedOption}`);
          if (valuedUnsupported.includes(option)) k++;
          continue;
        }
        if (!upstreamOptions.includes(option)) {
          const suggestion = closestWord(option, upstreamOptions);
          error(
            token,
            `${name}: unknown option "${option}"` +
              (suggestion === undefined
                ? `; allowed: ${upstreamOptions.join(", ")}`
                : `; did you mean "${suggestion}"?`),
          );
          continue;
        }
        const key = optionKeys[option] ?? option;
        if (Object.hasOwn(entry, key)) {
          error(token, `${label}: given twice on this line`);
          if (valueOptions.includes(option)) k++;
          continue;
        }
        if (flagOptions.includes(option)) {
          entry[key] = true;
          place(`${path}.${key}`, { token, label });
          continue;
        }
        const value = rest[k + 1];
        if (value === undefined) {
          error(token, `${label}: needs a value`);
          continue;
        }
        k++;
        entry[key] = key === "nts_ca" || key === "nts_ke_server"
          ? value.text
          : numberToken(value.text);
        place(`${path}.${key}`, { token: value, label });
      }
      return entry;
    }

    /** `filegen NAME [file FILE] [type TYPE] [link|nolink] [enable|disable]`. */
    function readFilegen(line: Line, path: string): Record<string, unknown> | undefined {
      const { head, args: rest } = line;
      const [name, ...options] = rest;
      if (name === undefined) {
        error(head, "filegen: needs a name such as loopstats");
        return undefined;
      }
      const entry = table();
      entry.name = name.text;
      place(`${path}.name`, { token: name, label: "filegen" });
      const words = ["file", "type", "link", "nolink", "enable", "disable"];
      for (let k = 0; k < options.length; k++) {
        const token = options[k] as Token;
        const word = token.text.toLowerCase();
        const key = word === "nolink" ? "link" : word === "disable" ? "enable" : word;
        if (!words.includes(word)) {
          const suggestion = closestWord(word, words);
          error(
            token,
            `filegen: unknown option "${token.text}"` +
              (suggestion === undefined
                ? `; allowed: ${words.join(", ")}`
                : `; did you mean "${suggestion}"?`),
          );
          continue;
        }
        if (Object.hasOwn(entry, key)) {
          error(token, `filegen ${word}: given twice on this line`);
          if (word === "file" || word === "type") k++;
          continue;
        }
        if (word === "file" || word === "type") {
          const value = options[k + 1];
          if (value === undefined) {
            error(token, `filegen ${word}: needs a value`);
            continue;
          }
          k++;
          entry[key] = word === "type" ? value.text.toLowerCase() : value.text;
          place(`${path}.${key}`, { token: value, label: `filegen ${word}` });
          continue;
        }
        entry[key] = word === "link" || word === "enable";
        place(`${path}.${key}`, { token, label: `filegen ${word}` });
      }
      return entry;
    }

    function readRestrict(line: Line, path: string): Record<string, unknown> | undefined {
      const { head, args: rest } = line;
      const entry = table();
      const family = table();
      let k = 0;
      for (; rest[k]?.text === "-4" || rest[k]?.text === "-6"; k++) {
        const token = rest[k] as Token;
        const key = token.text === "-4" ? "ipv4" : "ipv6";
        family[key] = true;
        place(`${path}.${key}`, { token, label: `restrict ${token.text}` });
      }
      const address = rest[k];
      if (address === undefined) {
        error(head, "restrict: needs an address (default, an IP address or a network)");
        return undefined;
      }
      if (address.text === "source") {
        error(address, "restrict source is not supported yet");
        return undefined;
      }
      entry.address = address.text;
      Object.assign(entry, family);
      place(`${path}.address`, { token: address, label: "restrict" });
      const flags: string[] = [];
      let firstFlag: Token | undefined;
      for (k++; k < rest.length; k++) {
        const token = rest[k] as Token;
        if (token.text === "mask") {
          const mask = rest[k + 1];
          if (mask === undefined) {
            error(token, "restrict mask: needs a value such as 255.255.255.0");
            continue;
          }
          if (Object.hasOwn(entry, "mask")) {
            error(token, "restrict mask: given twice on this line");
            k++;
            continue;
          }
          entry.mask = mask.text;
          place(`${path}.mask`, { token: mask, label: "restrict mask" });
          k++;
          continue;
        }
        place(`${path}.flags[${flags.length}]`, { token, label: "restrict" });
        firstFlag ??= token;
        flags.push(token.text);
      }
      if (flags.length > 0) {
        entry.flags = flags;
        place(`${path}.flags`, { token: firstFlag ?? address, label: "restrict" });
      }
      return entry;
    }

    function readPairs(line: Line): void {
      const { directive: name, head, args: rest } = line;
      if (rest.length === 0) return error(head, `${name}: needs OPTION VALUE pairs`);
      const pairs = (document[name] ??= table()) as Record<string, unknown>;
      place(name, { token: head, label: name });
      for (let k = 0; k < rest.length; k += 2) {
        const key = rest[k] as Token;
        const value = rest[k + 1];
        const label = `${name} ${key.text}`;
        if (value === undefined) return error(key, `${label}: needs a value`);
        if (Object.hasOwn(pairs, key.text)) {
          error(
            key,
            `${label}: given twice; first at line ${
              places.get(`${name}.${key.text}`)?.position.line
            }`,
          );
          continue;
        }
        pairs[key.text] = numberToken(value.text);
        place(`${name}.${key.text}`, { token: key, label });
      }
    }

    /**
     * NTPsec's `nts` directive: flags `enable`/`disable` and pairs `cert FILE`, `key FILE`,
     * `cookie FILE`, `aead NAME`, in any number per line. TLS version and cipher options are
     * refused (TLS 1.3 only, OpenSSL's suites).
     */
    function readNts(line: Line): void {
      const { head, args: rest } = line;
      if (rest.length === 0) {
        return error(head, "nts: needs an option (enable, cert FILE, key FILE, ...)");
      }
      const nts = (document.nts ??= table()) as Record<string, unknown>;
      place("nts", { token: head, label: "nts" });
      const keyOf: Readonly<Record<string, string>> = {
        cert: "cert",
        key: "key",
        cookie: "cookie_keys",
        aead: "aead",
      };
      const unsupported: Readonly<Record<string, string>> = {
        mintls: "only TLS 1.3 is offered (RFC 8915 requires it)",
        maxtls: "only TLS 1.3 is offered (RFC 8915 requires it)",
        tlsciphers: "TLS 1.2 cipher lists do not apply: only TLS 1.3 is offered",
        tlsciphersuites:
          "TLS 1.3 cipher suites are OpenSSL's defaults; choosing them is not supported yet",
        ca: "NTS client options (nts ca) are not supported yet",
      };
      for (let k = 0; k < rest.length; k++) {
        const option = rest[k] as Token;
        const word = option.text.toLowerCase();
        if (word === "enable" || word === "disable") {
          nts.enable = word === "enable";
          place("nts.enable", { token: option, label: `nts ${word}` });
          continue;
        }
        const reason = unsupported[word];
        if (reason !== undefined) {
          error(option, `nts ${word}: ${reason}`);
          k++;
          continue;
        }
        const key = keyOf[word];
        if (key === undefined) {
          const suggestion = closestWord(word, ["enable", "disable", ...Object.keys(keyOf)]);
          error(
            option,
            `nts: unknown option "${option.text}"` +
              (suggestion === undefined ? "" : `; did you mean "${suggestion}"?`),
          );
          continue;
        }
        const value = rest[k + 1];
        if (value === undefined) return error(option, `nts ${word}: needs a value`);
        k++;
        if (key === "aead") {
          const list = (nts.aead ??= []) as string[];
          list.push(value.text.toUpperCase().replace(/-/g, "_"));
        } else nts[key] = value.text;
        place(`nts.${key}`, { token: value, label: `nts ${word}` });
      }
    }

    function readInterface(line: Line): void {
      const { head, args } = line;
      const [action, target, extra] = args;
      if (action === undefined || target === undefined) {
        return error(head, `${directive}: expected "listen ADDRESS" or "ignore wildcard"`);
      }
      if (extra !== undefined) return error(extra, `${directive}: unexpected "${extra.text}"`);
      const verb = action.text;
      if (verb !== "listen" && verb !== "ignore" && verb !== "drop") {
        return error(action, `${directive}: got "${verb}", expected listen, ignore or drop`);
      }
      const which = target.text;
      const families: (4 | 6)[] | undefined = which === "wildcard" || which === "all"
        ? [4, 6]
        : which === "ipv4"
        ? [4]
        : which === "ipv6"
        ? [6]
        : undefined;
      if (families !== undefined) {
        for (const family of families) wildcard[family] = verb === "listen";
        return;
      }
      if (verb !== "listen") {
        return error(
          target,
          `${directive} ${verb} ADDRESS is not supported yet; ignore the wildcard and ` +
            `list the addresses to use with "${directive} listen ADDRESS"`,
        );
      }
      const ip = parseIpLiteral(which);
      if (!ip.ok) {
        return error(
          target,
          which.includes("/")
            ? `${directive} listen: networks are not supported yet; give an IP address`
            : /^[a-z][a-z0-9_.-]*$/i.test(which) && !which.includes(".")
            ? `${directive} listen: interface names are not supported yet; give an IP address`
            : `${directive} listen: ${ip.message}`,
        );
      }
      listenTokens.push(target);
    }
  });

  if (interfaceToken !== undefined) {
    const listen: string[] = [];
    const listenToken = interfaceToken;
    if (wildcard[4]) listen.push(defaultListen[0] ?? "0.0.0.0:123");
    if (wildcard[6]) listen.push(defaultListen[1] ?? "[::]:123");
    listen.forEach((_, k) => place(`listen[${k}]`, { token: listenToken, label: "interface" }));
    for (const token of listenTokens) {
      const ip = parseIpLiteral(token.text);
      const family = ip.ok ? ip.value.family : 4;
      if (wildcard[family]) {
        warn(
          token,
          `interface listen ${token.text}: has no effect while the IPv${family} wildcard address ` +
            `listens; add "interface ignore wildcard" to listen on chosen addresses only`,
        );
        continue;
      }
      place(`listen[${listen.length}]`, { token, label: "interface listen" });
      listen.push(token.text);
    }
    document.listen = listen;
    place("listen", { token: listenToken, label: "interface" });
  }
  if (pending.length > 0) {
    while (pending[pending.length - 1] === "") pending.pop();
    items.push({ kind: "trailing", comments: { leading: pending, trailing: [] } });
  }

  const nearest = (path: string): { position: SourcePosition; label: string } | undefined => {
    for (let p = path; p !== "";) {
      const found = places.get(p);
      if (found) return found;
      const match = /^(.*)(\[\d+\]|\.[^.[\]]*)$/.exec(p);
      p = match?.[1] ?? "";
    }
    return undefined;
  };
  const source: ConfigSource = {
    fileName,
    position: (path) => nearest(path)?.position ?? { line: 1, column: 1 },
    label: (path) => {
      const exact = places.get(path);
      if (exact) return exact.label;
      const key = /([^.[\]]+)$/.exec(path)?.[1] ?? path;
      const parent = nearest(path);
      return parent ? `${parent.label.split(" ")[0]} ${key}` : key;
    },
  };
  return { document, source, diagnostics, header, items };
}
