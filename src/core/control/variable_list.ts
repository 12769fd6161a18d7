// Mode 6 variable lists: packing "name=value" items into fragments as ntpd does, and parsing such lists back.
import { CONTROL_MAX_DATA_LENGTH } from "./control_message.ts";

/** One `name` or `name=value` item of a variable list. */
export interface VariableItem {
  readonly name: string;
  /** The text after `=`, trimmed and without surrounding double quotes; null when there was no `=`. */
  readonly value: string | null;
}

/** ntpd starts a new line (CRLF) before an item that would make the line reach this length. */
const MAX_LINE_LENGTH = 72;
/** Room kept at the end of a fragment for a separator (",\r\n") or the final CRLF. */
const TRAILER_RESERVE = 3;

/**
 * Joins `name=value` items the way ntpd's ctl_putdata does and cuts the text into fragment
 * payloads of at most `maxFragmentBytes` (default 468): items are separated by ", ", or by
 * ",\r\n" when the line would reach 72 characters; the last fragment ends with "\r\n". An item
 * never straddles two fragments unless it is longer than a whole fragment. Items must be
 * printable ASCII (the formatters guarantee it). An empty list gives one empty payload.
 *
 * @example
 * ```ts
 * packVariableText(["leap=0", "stratum=3"]); // [bytes of "leap=0, stratum=3\r\n"]
 * ```
 */
export function packVariableText(
  items: readonly string[],
  maxFragmentBytes = CONTROL_MAX_DATA_LENGTH,
): Uint8Array[] {
  const fragments: string[] = [];
  let current = "";
  let lineLength = 0;
  for (const item of items) {
    if (current.length > 0) {
      // ntpd counts the comma into the line before deciding (ctl_putdata).
      lineLength += 1;
      if (item.length + lineLength + 1 >= MAX_LINE_LENGTH) {
        current += ",\r\n";
        lineLength = 0;
      } else {
        current += ", ";
        lineLength += 1;
      }
    }
    let rest = item;
    if (current.length + rest.length + TRAILER_RESERVE > maxFragmentBytes && current.length > 0) {
      fragments.push(current);
      current = "";
    }
    while (rest.length + TRAILER_RESERVE > maxFragmentBytes) {
      const room = maxFragmentBytes - current.length;
      fragments.push(current + rest.slice(0, room));
      rest = rest.slice(room);
      current = "";
    }
    current += rest;
    lineLength += item.length;
  }
  if (items.length > 0) current += "\r\n";
  fragments.push(current);
  return fragments.map(asciiBytes);
}

/**
 * Parses a variable list as ntpq does: items separated by commas outside double quotes; bytes
 * that are not printable ASCII are dropped (ntpd pads with NULs); each item is `name` or
 * `name=value`, both trimmed; a quoted value loses its quotes. Empty items are skipped.
 *
 * @example
 * ```ts
 * parseVariableList('leap=0, processor="x86_64",\r\nstratum=3');
 * // [{ name: "leap", value: "0" }, { name: "processor", value: "x86_64" }, { name: "stratum", value: "3" }]
 * ```
 */
export function parseVariableList(text: string): VariableItem[] {
  const items: VariableItem[] = [];
  let current = "";
  let quoted = false;
  const flush = () => {
    const item = parseItem(current);
    if (item !== null) items.push(item);
    current = "";
  };
  for (const char of text) {
    if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (char === "," && !quoted) {
      flush();
    } else {
      const code = char.charCodeAt(0);
      if (code > 0 && code < 127) current += char;
    }
  }
  flush();
  return items;
}

/**
 * The text of a control payload: each byte as one character (latin-1), so no byte can make
 * decoding fail.
 *
 * @example
 * ```ts
 * payloadText(new Uint8Array([0x61, 0x3d, 0x31])); // "a=1"
 * ```
 */
export function payloadText(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

function parseItem(raw: string): VariableItem | null {
  const equals = raw.indexOf("=");
  const name = (equals < 0 ? raw : raw.slice(0, equals)).trim();
  if (name.length === 0) return null;
  if (equals < 0) return { name, value: null };
  let value = raw.slice(equals + 1).trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  return { name, value };
}

function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}
