/**
 * Dotfiles on servers whose `LIST` hides them (vsftpd; pure-ftpd and
 * proftpd where asked without `-a`): a site with `.htaccess` and
 * `sub/.env`, uploaded and then uploaded again unchanged, sends nothing the
 * second time. Each missing dot name is checked by itself (SIZE/MDTM), and
 * the listing asks for hidden entries where the server takes `LIST -a`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { compareTree } from "../helpers/dataset.ts";
import { realServerTest, type ServerKind } from "../helpers/real_server.ts";

const SITE: Record<string, string> = {
  "index.html": "<h1>hello</h1>\n",
  ".htaccess": "Options -Indexes\n",
  "sub/.env": "SECRET_KEY=not-really\n",
  "sub/page.html": "<p>page</p>\n",
  ".well-known/security.txt": "Contact: mailto:security@example.com\n",
};

for (const kind of ["vsftpd", "pure-ftpd", "proftpd"] as ServerKind[]) {
  realServerTest(
    `${kind}: a re-run of an unchanged tree with dotfiles sends nothing`,
    { kind },
    async (server) => {
      const dir = await Deno.makeTempDir({ prefix: "ftpbatch-dotfiles-" });
      try {
        const expected = new Map<string, string>();
        for (const [rel, text] of Object.entries(SITE)) {
          const local = join(dir, "site", rel);
          await Deno.mkdir(join(local, ".."), { recursive: true });
          await Deno.writeTextFile(local, text);
          expected.set(`/www/${rel}`, local);
        }
        const configPath = join(dir, "ftpbatch.json");
        await Deno.writeTextFile(
          configPath,
          JSON.stringify({
            server: { host: server.host, port: server.port, user: server.user },
            options: { workers: 2 },
            files: [{ source: "site/", destination: "/www/" }],
          }),
        );
        const run = async () =>
          (await runUpload({ config: await loadConfig(configPath), password: server.password }))
            .report;

        const first = await run();
        assert.equal(first.totals.uploaded, expected.size, JSON.stringify(first.totals));
        assert.deepEqual(await compareTree(server.root, expected), []);
        const before = (await server.log()).length;
        const again = await run();
        const rerun = (await server.log()).slice(before);
        if (kind === "vsftpd") {
          // vsftpd has no MLSD: its LIST hides dot names unless asked with -a.
          assert.match(rerun, /"LIST -a"/);
          // Found in the listing, not asked for one by one (SIZE+MDTM). One file of the run is
          // asked for anyway by the listing time-zone check, whichever it picks.
          const asked = rerun.match(/"SIZE \/www\/(sub\/)?\.(htaccess|env)"/g) ?? [];
          assert.ok(asked.length <= 1, `asked one by one: ${asked}`);
        }
        assert.deepEqual(
          again.files.filter((f) => f.status !== "skipped").map((f) => f.destination),
          [],
          "nothing sent again",
        );
        assert.equal(again.totals.bytesSent, 0);
        assert.equal(again.totals.skipped, expected.size);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
