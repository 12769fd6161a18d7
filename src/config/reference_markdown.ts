// Renders the README's configuration reference from the schema, formatted as `deno fmt` leaves it.
import type { FieldSpec, SectionSpec } from "./schema.ts";
import {
  configSchema,
  unsupportedDirectives,
  unsupportedKeys,
  unsupportedRestrictFlags,
} from "./schema.ts";

/** The README markers between which the reference lives. */
export const referenceMarkers = {
  start: "<!-- config-reference:start -->",
  end: "<!-- config-reference:end -->",
} as const;

function typeText(spec: FieldSpec): string {
  const range = spec.min !== undefined && spec.max !== undefined ? ` ${spec.min}..${spec.max}` : "";
  const unit = spec.unit ? ` (${spec.unit})` : "";
  const words = (spec.values ?? []).map((v) => `"${v}"`).join(", ");
  switch (spec.type) {
    case "path":
    case "string":
    case "boolean":
      return spec.type;
    case "integer":
    case "number":
      return `${spec.type}${range}${unit}`;
    case "enum":
      return words;
    case "integerOrAuto":
      return `"auto" or${range}`;
    case "stringList":
      return "list of strings";
    case "flagList":
      return "list of flags";
  }
}

function defaultText(spec: FieldSpec): string {
  if (spec.required) return "required";
  const value = spec.default;
  if (value === null) return "none";
  if (Array.isArray(value)) return `\`[${value.map((v) => JSON.stringify(v)).join(", ")}]\``;
  return `\`${JSON.stringify(value)}\``;
}

/** Width `deno fmt` wraps prose at (deno.json "fmt.lineWidth"). */
const proseWidth = 100;

/**
 * Wraps a paragraph greedily at proseWidth as `deno fmt` does; a code span with its attached
 * punctuation is never split.
 */
function wrap(paragraph: string): string {
  const atoms = paragraph.match(/(?:`[^`]*`|[^\s`])+/g) ?? [];
  const lines: string[] = [];
  let current = "";
  for (const atom of atoms) {
    if (current === "") current = atom;
    else if (current.length + 1 + atom.length <= proseWidth) current += ` ${atom}`;
    else {
      lines.push(current);
      current = atom;
    }
  }
  if (current !== "") lines.push(current);
  return lines.join("\n");
}

const cell = (text: string): string => text.replaceAll("|", "\\|");

/** A markdown table with padded columns, as dprint (deno fmt) aligns them. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows].map((row) => row.map(cell));
  const widths = header.map((_, c) => Math.max(3, ...all.map((row) => (row[c] ?? "").length)));
  const line = (row: readonly string[]): string =>
    `| ${row.map((text, c) => text.padEnd(widths[c] ?? 0)).join(" | ")} |`;
  const [head = [], ...body] = all;
  const rule = `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`;
  return [line(head), rule, ...body.map(line)].join("\n");
}

function sectionTitle(section: SectionSpec): string {
  if (section.shape === "root") return "Top-level keys";
  return section.shape === "table" ? `\`[${section.name}]\`` : `\`[[${section.name}]]\``;
}

function sectionMarkdown(section: SectionSpec): string {
  const rows = section.fields.map((spec) => [
    `\`${spec.key}\``,
    typeText(spec),
    defaultText(spec),
    spec.ntpConf === "-" ? "-" : `\`${spec.ntpConf}\``,
    spec.doc,
  ]);
  const ntpConf = section.shape === "root"
    ? ""
    : section.ntpConf === "-"
    ? " ntp.conf has no equivalent."
    : ` ntp.conf: \`${section.ntpConf}\`.`;
  return [
    `### ${sectionTitle(section)}`,
    "",
    wrap(`${section.doc}${ntpConf}`),
    "",
    table(["Key", "Type", "Default", "ntp.conf", "Meaning"], rows),
  ].join("\n");
}

/** The example files shown side by side at the end of the reference. */
export interface ReferenceExamples {
  /** An ntp.conf, shown on the left. */
  readonly ntpConf: { readonly path: string; readonly text: string };
  /** Its TOML equivalent, shown on the right. */
  readonly toml: { readonly path: string; readonly text: string };
}

function sideBySide(examples: ReferenceExamples): string {
  const code = (language: string, text: string): string =>
    ["```" + language, text.trimEnd(), "```"].join("\n");
  return [
    "### ntp.conf vs TOML",
    "",
    wrap(
      `The seed deployment's \`${examples.ntpConf.path}\` and its translation ` +
        `\`${examples.toml.path}\` (what \`ntp config import\` gives, with comments added); ` +
        "both load to the same configuration.",
    ),
    "",
    "<table>",
    "<tr><th>ntp.conf</th><th>TOML</th></tr>",
    "<tr>",
    "<td>",
    "",
    code("conf", examples.ntpConf.text),
    "",
    "</td>",
    "<td>",
    "",
    code("toml", examples.toml.text),
    "",
    "</td>",
    "</tr>",
    "</table>",
  ].join("\n");
}

/**
 * The markdown between the README markers (without the markers): an introduction, one table per
 * schema section (`schema` is replaceable for tests), the unsupported directives, and the
 * ntp.conf / TOML example side by side.
 *
 * @example
 * ```ts
 * const markdown = renderConfigReference({
 *   ntpConf: { path: "ntp.conf", text: "server a.example iburst\n" },
 *   toml: { path: "ntp.toml", text: '[[server]]\naddress = "a.example"\niburst = true\n' },
 * });
 * ```
 */
export function renderConfigReference(
  examples: ReferenceExamples,
  schema: readonly SectionSpec[] = configSchema,
): string {
  const unsupported = Object.keys(unsupportedDirectives).map((name) => `\`${name}\``).join(", ");
  return [
    "<!-- Generated from src/config/schema.ts by scripts/gen_config_reference.ts; do not edit. -->",
    "",
    wrap(
      "The configuration is TOML whose keys mirror ntp.conf directives and options one to one; " +
        "an existing ntp.conf is read as well (`.toml` and `.conf` files by extension, others by " +
        "content). `ntp config check FILE` reports every problem as `FILE:LINE:COL: error: ...` " +
        "and `ntp config import FILE` prints the TOML equivalent of an ntp.conf. Unknown keys " +
        "are errors; in an ntp.conf, unknown directives are warnings and are ignored.",
    ),
    "",
    ...schema.flatMap((section) => [sectionMarkdown(section), ""]),
    "### Not supported yet",
    "",
    wrap(`These ntpd directives are recognised and rejected with an error: ${unsupported}.`),
    "",
    wrap(
      "So are these options: " +
        Object.entries(unsupportedKeys).filter(([section, keys]) =>
          section !== "" && Object.keys(keys).length > 0
        ).map(([section, keys]) =>
          `${section} ${Object.keys(keys).map((key) => `\`${key}\``).join(", ")}`
        ).join("; ") +
        `; and the restrict flags ${
          unsupportedRestrictFlags.map((flag) => `\`${flag}\``).join(", ")
        }.`,
    ),
    "",
    sideBySide(examples),
  ].join("\n");
}

/** Replaces the text between the markers of a README with `section`; throws if a marker is missing. */
export function replaceReferenceSection(readme: string, section: string): string {
  const start = readme.indexOf(referenceMarkers.start);
  const end = readme.indexOf(referenceMarkers.end);
  if (start < 0 || end < start) {
    throw new Error(`README lacks ${referenceMarkers.start} ... ${referenceMarkers.end}`);
  }
  return readme.slice(0, start + referenceMarkers.start.length) + "\n\n" + section.trimEnd() +
    "\n\n" + readme.slice(end);
}
