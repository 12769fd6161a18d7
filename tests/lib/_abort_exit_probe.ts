// Queries a silent server with a 5 s timeout, aborts after 100 ms, and ends by itself: the process must exit at once (nothing left waiting), not when the timeout would have fired.
//   deno run --allow-net tests/lib/_abort_exit_probe.ts PORT
import { query } from "../../mod.ts";

const controller = new AbortController();
setTimeout(() => controller.abort(new Error("aborted")), 100);
try {
  await query(`127.0.0.1:${Deno.args[0]}`, { timeoutMs: 5000, signal: controller.signal });
} catch (error) {
  console.log(String(error));
}
