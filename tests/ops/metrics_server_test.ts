// The metrics HTTP endpoint: GET /metrics from the view at scrape time, HEAD, 404/405, a 500 on a failing view, bind errors; promtool's lint fails on bad input.
import assert from "node:assert/strict";
import { renderExposition } from "../../src/core/metrics/exposition.ts";
import { metricFamiliesOf } from "../../src/core/metrics/metric_families.ts";
import { MetricsBindError, startMetricsServer } from "../../src/daemon/metrics_server.ts";
import { fakeControlView } from "../support/fake_control_views.ts";
import { assertPromtoolAccepts, parseExposition, sampleValue } from "./_metrics.ts";

const listen = { hostname: "127.0.0.1", port: 0, family: 4 as const };

Deno.test("GET /metrics answers the exposition of the view as it is at scrape time", async () => {
  let uptimeSeconds = 10;
  const metrics = startMetricsServer({
    listen,
    view: () => fakeControlView("synced", { nowUnixSeconds: 1_800_000_000, uptimeSeconds }),
  });
  try {
    assert.equal(metrics.url, `http://127.0.0.1:${metrics.port}/metrics`);
    assert.ok(metrics.port > 0);
    const first = await fetch(metrics.url);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const body = await first.text();
    assert.equal(
      body,
      await renderExposition(
        metricFamiliesOf(
          fakeControlView("synced", { nowUnixSeconds: 1_800_000_000, uptimeSeconds: 10 }),
        ),
      ),
    );
    await assertPromtoolAccepts(body);
    uptimeSeconds = 99;
    const second = parseExposition(await (await fetch(metrics.url)).text());
    assert.equal(sampleValue(second, "ntp_uptime_seconds"), 99);
  } finally {
    await metrics.close();
    await metrics.close();
  }
});

Deno.test("the endpoint answers HEAD without a body, / with a pointer, other paths 404 and other methods 405", async () => {
  const metrics = startMetricsServer({
    listen,
    view: () => fakeControlView("empty", { nowUnixSeconds: 0 }),
  });
  const base = `http://127.0.0.1:${metrics.port}`;
  try {
    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const root = await fetch(`${base}/`);
    assert.match(await root.text(), /\/metrics/);
    const missing = await fetch(`${base}/other`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
  } finally {
    await metrics.close();
  }
});

Deno.test("a view that throws gives a 500 and is reported to onError", async () => {
  const errors: unknown[] = [];
  const metrics = startMetricsServer({
    listen,
    view: () => {
      throw new Error("view broke");
    },
    onError: (error) => errors.push(error),
  });
  try {
    const response = await fetch(metrics.url);
    assert.equal(response.status, 500);
    await response.body?.cancel();
    assert.equal((errors[0] as Error).message, "view broke");
  } finally {
    await metrics.close();
  }
});

Deno.test("startMetricsServer() throws MetricsBindError naming the address when the port is taken or not local", async () => {
  const first = startMetricsServer({
    listen,
    view: () => fakeControlView("empty", { nowUnixSeconds: 0 }),
  });
  try {
    assert.throws(
      () =>
        startMetricsServer({
          listen: { ...listen, port: first.port },
          view: () => fakeControlView("empty", { nowUnixSeconds: 0 }),
        }),
      (error: unknown) =>
        error instanceof MetricsBindError &&
        error.message.includes(`127.0.0.1:${first.port}`) && /in use/.test(error.message),
    );
  } finally {
    await first.close();
  }
  assert.throws(
    () =>
      startMetricsServer({
        listen: { hostname: "192.0.2.1", port: 9123, family: 4 },
        view: () => fakeControlView("empty", { nowUnixSeconds: 0 }),
      }),
    (error: unknown) =>
      error instanceof MetricsBindError && /not an address of this machine/.test(error.message),
  );
});

Deno.test("assertPromtoolAccepts() fails on a counter without _total and on a broken label", async () => {
  await assert.rejects(
    assertPromtoolAccepts("# HELP foo x\n# TYPE foo counter\nfoo 1\n"),
    /_total/,
  );
  await assert.rejects(assertPromtoolAccepts('foo{a="b} 1\n'), /parsing error/);
});
