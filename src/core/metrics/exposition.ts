// Renders metric families in the Prometheus text exposition format 0.0.4 with prom-client (npm), a fresh registry per call.
//
// prom-client's Registry, Gauge and Counter are plain in-memory objects (no I/O, no timers unless
// collectDefaultMetrics is called, which we never do), so this stays pure. We use the library for
// what it gets right and we would otherwise re-implement: name and label validation, HELP and
// label-value escaping, the +Inf/-Inf/NaN spellings and the content type.
import { Counter, Gauge, Registry } from "prom-client";
import type { MetricFamily } from "./metric_families.ts";

/** The Content-Type of the text exposition format 0.0.4. */
export const EXPOSITION_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * The text exposition (format 0.0.4) of `families`: `# HELP`, `# TYPE` and one line per sample,
 * families in the given order, separated by blank lines.
 *
 * @throws {Error} On an invalid metric or label name, a duplicate family name, a sample without
 *   all its labels, or a negative counter value (programming errors).
 * @example
 * ```ts
 * import { metricFamiliesOf } from "./metric_families.ts";
 * import type { ControlView } from "../control/control_view.ts";
 * declare const view: ControlView;
 * const text = await renderExposition(metricFamiliesOf(view));
 * // "# HELP ntp_build_info ...\n# TYPE ntp_build_info gauge\nntp_build_info{version=\"ntp 0.1.0\"} 1\n..."
 * ```
 */
export async function renderExposition(families: readonly MetricFamily[]): Promise<string> {
  const registry = new Registry();
  for (const family of families) {
    const config = {
      name: family.name,
      help: family.help,
      labelNames: [...family.labelNames],
      registers: [registry],
    };
    for (const sample of family.samples) {
      const missing = family.labelNames.filter((name) => sample.labels[name] === undefined);
      if (missing.length > 0) {
        throw new Error(`Cannot render ${family.name}: sample without label ${missing.join(", ")}`);
      }
    }
    if (family.type === "counter") {
      const counter = new Counter(config);
      for (const sample of family.samples) {
        if (family.labelNames.length === 0) counter.inc(sample.value);
        else counter.inc({ ...sample.labels }, sample.value);
      }
    } else {
      const gauge = new Gauge(config);
      for (const sample of family.samples) {
        if (family.labelNames.length === 0) gauge.set(sample.value);
        else gauge.set({ ...sample.labels }, sample.value);
      }
    }
  }
  return await registry.metrics();
}
