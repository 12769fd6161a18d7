// Writes an ntp.conf, as read by ntp_conf_reader.ts, as commented TOML for `ntp config import`.
import type { ImportItem, NtpConfDocument } from "./ntp_conf_reader.ts";
import { tomlKey, tomlValue } from "./toml_text.ts";

/** Lines of one item: its leading comments, its header or key line (with a trailing comment), its keys. */
function itemLines(item: ImportItem, document: Readonly<Record<string, unknown>>): string[] {
  const { leading, trailing } = item.comments;
  const lines = [...leading];
  const inline = trailing.length === 1 ? ` ${trailing[0]}` : "";
  if (trailing.length > 1) lines.push(...trailing);
  const tableLines = (header: string, table: unknown): void => {
    lines.push(`${header}${inline}`);
    if (typeof table !== "object" || table === null) return;
    for (const [key, value] of Object.entries(table)) {
      lines.push(`${tomlKey(key)} = ${tomlValue(value)}`);
    }
  };
  switch (item.kind) {
    case "root":
      lines.push(`${item.key} = ${tomlValue(document[item.key])}${inline}`);
      break;
    case "entry": {
      const list = document[item.section];
      tableLines(`[[${item.section}]]`, Array.isArray(list) ? list[item.index] : undefined);
      break;
    }
    case "table":
      tableLines(`[${item.section}]`, document[item.section]);
      break;
    case "kept":
      lines.push(`# (ntp.conf line ${item.line}, not understood) ${item.text}${inline}`);
      break;
    case "trailing":
      break;
  }
  return lines;
}

/**
 * The TOML equivalent of an ntp.conf: top-level keys first (TOML needs them before any table),
 * then tables in file order. Comments travel with the directive they precede or follow; unknown
 * directives stay as comments.
 *
 * @example
 * ```ts
 * import { readNtpConf } from "./ntp_conf_reader.ts";
 * const text = await Deno.readTextFile("/etc/ntp.conf");
 * const toml = writeImportedToml(readNtpConf(text, "ntp.conf"), { fileName: "ntp.conf" });
 * ```
 */
export function writeImportedToml(conf: NtpConfDocument, options: { fileName: string }): string {
  const out: string[] = [`# Imported from ${options.fileName} by "ntp config import".`];
  if (conf.header.length > 0) out.push("", ...conf.header);
  const blocks: string[][] = [];
  const rootLines = conf.items
    .filter((item) => item.kind === "root")
    .flatMap((item) => {
      const lines = itemLines(item, conf.document);
      return item.comments.leading.length > 0 && lines.length > 1 ? ["", ...lines] : lines;
    });
  while (rootLines[0] === "") rootLines.shift();
  if (rootLines.length > 0) blocks.push(rootLines);
  for (const item of conf.items) {
    if (item.kind === "root") continue;
    const lines = itemLines(item, conf.document);
    if (lines.length > 0) blocks.push(lines);
  }
  for (const block of blocks) out.push("", ...block);
  return `${out.join("\n")}\n`;
}
