/**
 * FTPS (explicit, AUTH TLS) through the basic-ftp transport against vsftpd
 * with a throwaway CA that the client is told to trust with DENO_CERT.
 * Ignored (the reason in the test name) where vsftpd is not installed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compareTree, listTree, makeDataset } from "../helpers/dataset.ts";
import { realServerCase, startServer } from "../helpers/real_server.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

Deno.test(
  ...realServerCase(
    "FTPS: explicit TLS upload to vsftpd, bytes identical; an untrusted certificate fails",
    { tls: true },
  ),
  async () => {
    {
      const server = await startServer({ tls: true });
      const data = await makeDataset({
        count: 12,
        server: {
          host: server.host,
          port: server.port,
          user: server.user,
          passwordEnv: "FTPBATCH_TEST_PW",
          secure: true,
        },
        options: { workers: 3, retries: 0, report: "report.json" },
      });
      const run = (env: Record<string, string>) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", MAIN, "upload", data.configPath],
          env: { NO_COLOR: "1", FTPBATCH_TEST_PW: server.password, ...env },
          stdout: "piped",
          stderr: "piped",
        }).output();
      try {
        const untrusted = await run({});
        assert.equal(untrusted.code, 3, new TextDecoder().decode(untrusted.stderr));
        assert.deepEqual(await listTree(server.root), []);

        const ok = await run({ DENO_CERT: join(server.dir, "ca.pem") });
        assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
        assert.deepEqual(await compareTree(server.root, data.expected), []);
        const log = await server.log();
        assert.match(log, /AUTH TLS/);
        assert.match(log, /PROT P/); // data connections encrypted too
        const report = JSON.parse(await Deno.readTextFile(join(data.dir, "report.json")));
        assert.equal(report.server.secure, true);
        assert.equal(report.totals.uploaded, 12);
      } finally {
        await server.close();
        await Deno.remove(data.dir, { recursive: true });
      }
    }
  },
);
