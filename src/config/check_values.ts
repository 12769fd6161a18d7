// Checks one raw value against its FieldSpec and words the problem as "got X, expected Y".
import type { FieldSpec } from "./schema.ts";
import { unsupportedRestrictFlags } from "./schema.ts";
import { closestWord } from "./suggest.ts";

/** A plain TOML table (not an array, date or other object). */
export function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/** Short description of a raw value for messages: strings quoted, containers by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (isTable(value)) return "a table";
  return typeof value;
}

function range(spec: FieldSpec): string {
  const unit = spec.unit ? ` (${spec.unit})` : "";
  if (spec.min !== undefined && spec.max !== undefined) {
    return `from ${spec.min} to ${spec.max}${unit}`;
  }
  if (spec.min !== undefined) return `>= ${spec.min}${unit}`;
  return unit.trim();
}

/** What a key accepts, in words: "an integer from 3 to 17 (log2 s)". */
export function expectedText(spec: FieldSpec): string {
  const values = (spec.values ?? []).map((v) => `"${v}"`).join(", ");
  switch (spec.type) {
    case "path":
      return "an absolute path";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "integer":
      return `an integer ${range(spec)}`;
    case "number":
      return `a number ${range(spec)}`;
    case "enum":
      return `one of ${values}`;
    case "integerOrAuto":
      return `"auto" or an integer ${range(spec)}`;
    case "stringList":
      return "a list of strings";
    case "flagList":
      return `a list of ${values}`;
  }
}

/** One problem with a value: the message, and for list elements the index it concerns. */
export interface ValueProblem {
  readonly message: string;
  /** Index of the offending list element, for its position. */
  readonly element?: number;
}

/** The checked value, or the problems found. */
export type CheckedValue =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problems: readonly ValueProblem[] };

const inRange = (spec: FieldSpec, n: number): boolean =>
  (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);

/**
 * Checks a raw value (from TOML or ntp.conf) against its spec. Numbers are normalised
 * (no negative zero); flag lists are deduplicated and put in the spec's order.
 */
export function checkValue(spec: FieldSpec, value: unknown): CheckedValue {
  const wrong = (): CheckedValue => ({
    ok: false,
    problems: [{ message: `got ${describeValue(value)}, expected ${expectedText(spec)}` }],
  });
  switch (spec.type) {
    case "path":
      if (typeof value !== "string" || !value.startsWith("/") || value.includes("\0")) {
        return wrong();
      }
      return { ok: true, value };
    case "string":
      return typeof value === "string" && value.length > 0 ? { ok: true, value } : wrong();
    case "boolean":
      return typeof value === "boolean" ? { ok: true, value } : wrong();
    case "integer":
      return typeof value === "number" && Number.isInteger(value) && inRange(spec, value)
        ? { ok: true, value: value + 0 }
        : wrong();
    case "number":
      return typeof value === "number" && Number.isFinite(value) && inRange(spec, value)
        ? { ok: true, value: value + 0 }
        : wrong();
    case "enum":
      return typeof value === "string" && (spec.values ?? []).includes(value)
        ? { ok: true, value }
        : wrong();
    case "integerOrAuto":
      if (value === "auto") return { ok: true, value };
      return typeof value === "number" && Number.isInteger(value) && inRange(spec, value)
        ? { ok: true, value: value + 0 }
        : wrong();
    case "stringList":
      if (!Array.isArray(value)) return wrong();
      return checkElements(
        value,
        (element) =>
          typeof element === "string"
            ? undefined
            : `got ${describeValue(element)}, expected a string`,
      );
    case "flagList":
      return checkFlags(spec, value);
  }
}

function checkElements(
  list: readonly unknown[],
  problemOf: (element: unknown) => string | undefined,
): CheckedValue {
  const problems: ValueProblem[] = [];
  list.forEach((element, index) => {
    const message = problemOf(element);
    if (message !== undefined) problems.push({ message, element: index });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: list };
}

function checkFlags(spec: FieldSpec, value: unknown): CheckedValue {
  if (!Array.isArray(value)) {
    return {
      ok: false,
      problems: [{ message: `got ${describeValue(value)}, expected ${expectedText(spec)}` }],
    };
  }
  const known = spec.values ?? [];
  const unsupported = spec.unsupportedValues ?? unsupportedRestrictFlags;
  const name = spec.valueName ?? "flag";
  const checked = checkElements(value, (element) => {
    if (typeof element !== "string") {
      return `got ${describeValue(element)}, expected one of ${known.join(", ")}`;
    }
    if (known.includes(element)) return undefined;
    if (unsupported.includes(element)) {
      return `${name} "${element}" is not supported yet`;
    }
    const suggestion = closestWord(element, known);
    return suggestion !== undefined
      ? `unknown ${name} "${element}"; did you mean "${suggestion}"?`
      : `unknown ${name} "${element}"; allowed: ${known.join(", ")}`;
  });
  if (!checked.ok) return checked;
  return { ok: true, value: known.filter((flag) => value.includes(flag)) };
}
