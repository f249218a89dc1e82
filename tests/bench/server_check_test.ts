/**
 * The benchmark's reading of vsftpd's log (`bench/server_check.ts`): a re-run's STORs are the
 * files sent, and ftpbatch's time probe (a temporary name removed after) is not one of them.
 */
import assert from "node:assert/strict";
import { countCommands, isTimeProbe, storedPaths } from "../../bench/server_check.ts";

const LOG = [
  `Sat Dec  5 19:54:15 2026 [pid 3] CONNECT: Client "127.0.0.1"`,
  `Sat Dec  5 19:54:15 2026 [pid 4] [ftpbatch] FTP command: Client "127.0.0.1", "STOR /a/.ftpbatch-time-probe.ftpbatch-0-1a2b.part"`,
  `Sat Dec  5 19:54:15 2026 [pid 4] [ftpbatch] FTP command: Client "127.0.0.1", "STOR /a/.file-00001.bin.ftpbatch-4096-9f.part"`,
  `Sat Dec  5 19:54:15 2026 [pid 4] [ftpbatch] FTP command: Client "127.0.0.1", "STOR /日本/café ☕ 3.txt"`,
  `Sat Dec  5 19:54:15 2026 [pid 4] [ftpbatch] FTP command: Client "127.0.0.1", "SIZE /a/x"`,
].join("\n");

Deno.test("bench: STOR paths from vsftpd's log, the time probe told apart", () => {
  const paths = storedPaths(LOG);
  assert.deepEqual(paths, [
    "/a/.ftpbatch-time-probe.ftpbatch-0-1a2b.part",
    "/a/.file-00001.bin.ftpbatch-4096-9f.part",
    "/日本/café ☕ 3.txt",
  ]);
  assert.deepEqual(paths.map(isTimeProbe), [true, false, false]);
  // A file that only looks like the probe's name is a file.
  assert.equal(isTimeProbe("/a/ftpbatch-time-probe.txt"), false);
  assert.equal(countCommands(LOG).commands.STOR, 3);
});
