/**
 * A folder source against a real Debian server (vsftpd on loopback) through
 * the command line: the tree's bytes compared by sha256 under non-ASCII
 * names (Cyrillic, Japanese, spaces, an NFD name stored NFC), empty folders
 * present, excluded files and folders absent, symlinks not followed.
 * Ignored where vsftpd cannot run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "../cli/cli_process.ts";
import { compareTree } from "../helpers/dataset.ts";
import { makeFolderTree, TREE_EXCLUDE } from "../helpers/folder_tree.ts";
import { realServerTest } from "../helpers/real_server.ts";

function lexists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

realServerTest(
  "real server: a folder source with excludes and non-ASCII names, byte-exact, empty folders",
  { kind: "vsftpd" },
  async (server) => {
    const tree = await makeFolderTree();
    const dir = join(tree.root, "..");
    try {
      const configPath = join(dir, "ftpbatch.json");
      await Deno.writeTextFile(
        configPath,
        JSON.stringify({
          server: { host: server.host, port: server.port, user: server.user, passwordEnv: "PW" },
          options: { workers: 3, report: "report.json" },
          files: [{ source: "site", destination: "/сайт/www/", exclude: TREE_EXCLUDE }],
        }),
      );
      const out = await cli(["upload", configPath, "--quiet"], { PW: server.password });
      assert.equal(out.code, 0, out.stderr);
      const remote = join(server.root, "сайт", "www");
      const expected = new Map(
        [...tree.expected].map(([rel, local]) => [`сайт/www/${rel}`, local]),
      );
      assert.deepEqual(await compareTree(server.root, expected), []);
      for (const d of tree.emptyFolders) {
        assert.ok(Deno.statSync(join(remote, d)).isDirectory, `empty folder ${d}`);
      }
      for (const rel of tree.absent) assert.ok(!lexists(join(remote, rel)), `${rel} not sent`);
      assert.ok(lexists(join(remote, "café menu.txt".normalize("NFC"))), "NFC name");
      const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
      assert.equal(report.entries[0].uploaded, tree.expected.size);
      assert.equal(report.entries[0].symlinks, tree.symlinks);
      assert.equal(report.entries[0].emptyFolders, tree.emptyFolders.length);
      // Each file stored once (to its temporary name, then renamed).
      const log = await server.log();
      const stors = log.split("\n").filter((l) => /FTP command: Client "[^"]+", "STOR /.test(l));
      assert.equal(stors.length, tree.expected.size);
      // A nightly mirror of the unchanged folder: listed, compared, nothing sent again.
      const again = await cli(["upload", configPath, "--quiet"], { PW: server.password });
      assert.equal(again.code, 0, again.stderr);
      const log2 = (await server.log()).split("\n");
      const stors2 = log2.filter((l) => /FTP command: Client "[^"]+", "STOR /.test(l));
      assert.equal(stors2.length, tree.expected.size, "the re-run sent nothing");
      const report2 = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
      assert.equal(report2.entries[0].skipped, tree.expected.size);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
