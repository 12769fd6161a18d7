// Where each key of a TOML document sits: maps key paths like `server[2].minpoll` to line:column.
//
// smol-toml reports positions of syntax errors only, so this scans the (already valid) text for
// `[table]` / `[[array]]` headers, `key =` lines, and the elements of arrays and inline tables.
// It never throws and always terminates, even on text that is not TOML.
import type { SourcePosition } from "./diagnostics.ts";

/** Key paths (`driftfile`, `tos.minsane`, `server[0].address`, `listen[1]`) to their positions. */
export type TomlPositionIndex = ReadonlyMap<string, SourcePosition>;

const bareKeyChar = /[A-Za-z0-9_-]/;

/**
 * Scans TOML text and returns the position of every header, key and array element.
 *
 * @example
 * ```ts
 * const index = indexTomlPositions('[[server]]\naddress = "a"\n');
 * index.get("server[0].address"); // { line: 2, column: 1 }
 * ```
 */
export function indexTomlPositions(text: string): TomlPositionIndex {
  const positions = new Map<string, SourcePosition>();
  const arrayIndex = new Map<string, number>();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let current = "";

  const here = (): SourcePosition => ({ line, column: i - lineStart + 1 });
  const step = (): void => {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
    i++;
  };
  const record = (path: string, position: SourcePosition): void => {
    if (!positions.has(path)) positions.set(path, position);
  };
  const skipSpaces = (): void => {
    while (text[i] === " " || text[i] === "\t") step();
  };
  const skipToEndOfLine = (): void => {
    while (i < text.length && text[i] !== "\n") step();
  };
  const skipBlank = (): void => {
    for (;;) {
      skipSpaces();
      const c = text[i];
      if (c === "#") skipToEndOfLine();
      else if (c === "\n" || c === "\r") step();
      else return;
    }
  };
  const startsWith = (s: string): boolean => text.startsWith(s, i);

  const readQuoted = (quote: string): string => {
    step();
    const begin = i;
    while (i < text.length && text[i] !== quote && text[i] !== "\n") {
      if (quote === '"' && text[i] === "\\") step();
      step();
    }
    const raw = text.slice(begin, i);
    if (text[i] === quote) step();
    if (quote === "'") return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return raw;
    }
  };
  const readKeySegment = (): string | undefined => {
    const c = text[i];
    if (c === '"' || c === "'") return readQuoted(c);
    const begin = i;
    while (i < text.length && bareKeyChar.test(text[i] ?? "")) step();
    return i > begin ? text.slice(begin, i) : undefined;
  };
  const readDottedKey = (): string[] => {
    const segments: string[] = [];
    for (;;) {
      skipSpaces();
      const segment = readKeySegment();
      if (segment === undefined) return segments;
      segments.push(segment);
      skipSpaces();
      if (text[i] !== ".") return segments;
      step();
    }
  };
  const join = (base: string, key: string): string => base === "" ? key : `${base}.${key}`;
  const recordDotted = (
    keys: readonly string[],
    where: { readonly base: string; readonly at: SourcePosition },
  ): string => {
    let path = where.base;
    for (const key of keys) {
      path = join(path, key);
      record(path, where.at);
    }
    return path;
  };

  const skipMultiline = (quote: string): void => {
    for (let k = 0; k < 3; k++) step();
    while (i < text.length && !startsWith(quote)) {
      if (quote === '"""' && text[i] === "\\") step();
      step();
    }
    for (let k = 0; k < 3 && i < text.length; k++) step();
    while (text[i] === quote[0]) step();
  };

  const scanValue = (path: string, depth: number): void => {
    if (depth > 64) return;
    const c = text[i];
    if (startsWith('"""') || startsWith("'''")) {
      skipMultiline(text.slice(i, i + 3));
    } else if (c === '"' || c === "'") {
      readQuoted(c);
    } else if (c === "[") {
      step();
      for (let element = 0;; element++) {
        skipBlank();
        if (i >= text.length) return;
        if (text[i] === "]") {
          step();
          return;
        }
        const elementPath = `${path}[${element}]`;
        record(elementPath, here());
        scanValue(elementPath, depth + 1);
        skipBlank();
        if (text[i] === ",") step();
        else {
          if (text[i] === "]") step();
          return;
        }
      }
    } else if (c === "{") {
      step();
      for (;;) {
        skipSpaces();
        if (text[i] === "}") {
          step();
          return;
        }
        const at = here();
        const keys = readDottedKey();
        if (keys.length === 0) return;
        const keyPath = recordDotted(keys, { base: path, at });
        skipSpaces();
        if (text[i] !== "=") return;
        step();
        skipSpaces();
        scanValue(keyPath, depth + 1);
        skipSpaces();
        if (text[i] === ",") step();
        else if (text[i] === "}") {
          step();
          return;
        } else return;
      }
    } else {
      while (i < text.length && !",]}\n#".includes(text[i] ?? "")) step();
    }
  };

  const headerPath = (
    keys: readonly string[],
    header: { readonly isArray: boolean; readonly at: SourcePosition },
  ): string => {
    const { isArray, at } = header;
    let rendered = "";
    keys.forEach((key, k) => {
      const candidate = join(rendered, key);
      const last = k === keys.length - 1;
      if (last && isArray) {
        record(candidate, at);
        const index = (arrayIndex.get(candidate) ?? -1) + 1;
        arrayIndex.set(candidate, index);
        rendered = `${candidate}[${index}]`;
      } else {
        const index = arrayIndex.get(candidate);
        rendered = index === undefined ? candidate : `${candidate}[${index}]`;
      }
    });
    return rendered;
  };

  while (i < text.length) {
    skipBlank();
    if (i >= text.length) break;
    const at = here();
    if (text[i] === "[") {
      const isArray = text[i + 1] === "[";
      step();
      if (isArray) step();
      const keys = readDottedKey();
      if (keys.length > 0) {
        current = headerPath(keys, { isArray, at });
        record(current, at);
      }
      skipToEndOfLine();
      continue;
    }
    const keys = readDottedKey();
    if (keys.length === 0) {
      skipToEndOfLine();
      continue;
    }
    const path = recordDotted(keys, { base: current, at });
    skipSpaces();
    if (text[i] === "=") {
      step();
      skipSpaces();
      scanValue(path, 0);
    }
    skipToEndOfLine();
  }
  return positions;
}

/** The path one level up: `server[2].minpoll` -> `server[2]` -> `server`; undefined at the top. */
export function parentPath(path: string): string | undefined {
  const match = /^(.*)(\[\d+\]|\.[^.[\]]*)$/.exec(path);
  return match ? match[1] : undefined;
}

/**
 * Position of a key path, or of its nearest ancestor that has one (a default that was not
 * written points at its table), or line 1 column 1.
 */
export function positionOf(index: TomlPositionIndex, path: string): SourcePosition {
  for (let p: string | undefined = path; p !== undefined && p !== ""; p = parentPath(p)) {
    const position = index.get(p);
    if (position) return position;
  }
  return { line: 1, column: 1 };
}
