// Writing TOML values and keys: the small part of TOML syntax the config writers need.

/** A TOML basic string: quotes, backslashes and control characters escaped. */
export function tomlString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\t") out += "\\t";
    else if (char === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else if (code >= 0xd800 && code <= 0xdfff) out += "\\uFFFD";
    else out += char;
  }
  return `${out}"`;
}

/** A key, bare when it can be, quoted otherwise. */
export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

/**
 * A value as TOML: strings quoted, finite numbers as integers or floats, booleans, and
 * one-line arrays of those.
 *
 * @example
 * ```ts
 * tomlValue(["kod", "limited"]); // '["kod", "limited"]'
 * ```
 */
export function tomlValue(value: unknown): string {
  if (typeof value === "string") return tomlString(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value + 0);
  }
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  return tomlString(String(value));
}
