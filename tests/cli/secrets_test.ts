import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "./cli_process.ts";
import { makeDataset } from "../helpers/dataset.ts";
import { integrationTest } from "../helpers/kit.ts";

const PASSWORD = "pw-53cr3t";

/**
 * A hostile login: every PASS is answered `530` echoing the password with
 * terminal escape sequences around it, as a broken or malicious server might.
 */
function echoingServer(): { port: number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serve = async (conn: Deno.Conn) => {
    const enc = new TextEncoder();
    const send = (line: string) => conn.write(enc.encode(line + "\r\n"));
    try {
      await send("220 ready");
      const reader = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        let end;
        while ((end = buffered.indexOf("\r\n")) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const verb = line.split(" ")[0].toUpperCase();
          if (verb === "USER") await send("331 password please");
          else if (verb === "PASS") {
            await send(`530 \x1b[2J\x1b]0;pwned\x07 login refused for ${line.slice(5)}`);
          } else await send("502 no");
        }
      }
    } catch { /* client went away */ }
    try {
      conn.close();
    } catch { /* closed */ }
  };
  (async () => {
    for await (const conn of listener) serve(conn);
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

integrationTest(
  "a server echoing the password with escape sequences: not on stderr, not in the report",
  async () => {
    const server = echoingServer();
    try {
      const data = await makeDataset({
        count: 2,
        server: { host: "127.0.0.1", port: server.port, user: "u", password: PASSWORD },
        options: { retries: 0, backoffBaseMs: 0, backoffMaxMs: 0 },
      });
      const report = join(data.dir, "report.json");
      const r = await cli(["upload", data.configPath, "--report", report, "--workers", "1"]);
      const reportText = await Deno.readTextFile(report);
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /login refused/); // the server's words are shown...
      for (const [where, text] of [["stderr", r.stderr], ["report", reportText]]) {
        assert.ok(!text.includes(PASSWORD), `${where}: ${text}`); // ...without the password
        assert.ok(!text.includes("\x1b") && !text.includes("\x07"), `${where}: raw escape`);
      }
      assert.ok(!/\\u001b|\\u0007/.test(reportText), "escapes must be escaped as \\x1b");
      await Deno.remove(data.dir, { recursive: true });
    } finally {
      server.close();
    }
  },
);
