/**
 * A server that refuses plain FTP logins (vsftpd `force_local_logins_ssl=YES`:
 * `530 Non-anonymous sessions must use encryption.`; pure-ftpd `--tls 2`:
 * `421 … cleartext sessions … are not accepted`): the run ends at once with
 * exit 3 and says to set `"secure": true`, nothing sent, no retries.
 */

import assert from "node:assert/strict";
import { listTree, makeDataset } from "../helpers/dataset.ts";
import { realServerTest, type ServerKind } from "../helpers/real_server.ts";
import { runCli, serverSection } from "./matrix.ts";

for (const kind of ["vsftpd", "pure-ftpd"] as ServerKind[]) {
  realServerTest(
    `${kind} refusing cleartext logins: exit 3 at once, with the "secure": true hint`,
    { kind, tlsRequired: true },
    async (server) => {
      const data = await makeDataset({
        count: 4,
        server: serverSection(server),
        options: { workers: 2, retries: 5, backoffBaseMs: 1000, report: "report.json" },
      });
      try {
        const r = await runCli(server, data);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /requires FTPS: set "secure": true/);
        assert.doesNotMatch(r.stderr, /retrying/, "a refusal for want of TLS is not retried");
        assert.equal(r.report.totals.failed, 4);
        assert.deepEqual(await listTree(server.root), []);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );
}
