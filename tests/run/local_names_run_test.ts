/**
 * Names that cannot be sent as themselves, through a whole run, on the
 * embedded server and on real ones (issue 21 items 2, 5 and 7, issue 15 item
 * 2): a name with a line feed, two names one NFC and one NFD, and two names
 * that are not valid UTF-8 each fail at once with their reason and attempts 0,
 * and no command names them; the other files of the chunk still go through
 * the unchanged check on the re-run (nothing re-sent). A remote NFD name is
 * not taken for the NFC destination.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { validateConfig } from "../../src/config/validate.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import type { Report } from "../../src/report/report.ts";
import { withServer } from "../helpers/embedded.ts";
import { realServerTest } from "../helpers/real_server.ts";
import { integration } from "../helpers/kit.ts";

interface Target {
  server: Record<string, unknown>;
  password?: string;
  /** What the server received, one command a line. */
  commands: () => Promise<string>;
  root: string;
  /** The skip rule a re-run can rely on (the embedded server sets no times). */
  rule: string;
}

async function run(t: Target, source: string): Promise<Report> {
  const config = await validateConfig({
    server: t.server,
    options: { workers: 2, retries: 1, backoffBaseMs: 50, skip: t.rule },
    files: [{ source: source + "/", destination: "/site/" }],
  }, "/nowhere/config.json");
  return (await runUpload({ config, password: t.password })).report;
}

/** A tree of 12 plain files and five odd names (a line feed, NFC/NFD, two not UTF-8). */
async function oddTree(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-odd-" });
  for (let i = 0; i < 12; i++) await Deno.writeTextFile(join(root, `f${i}.txt`), `file ${i}`);
  await Deno.writeTextFile(join(root, "line\nfeed.txt"), "never sent");
  await Deno.writeTextFile(join(root, "caf\u00e9.txt"), "nfc");
  await Deno.writeTextFile(join(root, "cafe\u0301.txt"), "nfd");
  const out = await new Deno.Command("sh", {
    // \377 and \376: bytes that are not UTF-8 (octal: dash's printf has no \x).
    args: [
      "-c",
      `printf 1 > "$1/$(printf 'bad\\377.txt')"; printf 2 > "$1/$(printf 'bad\\376.txt')"`,
    ]
      .concat(["sh", root]),
  }).output();
  assert.equal(out.code, 0);
  return root;
}

async function oddNames(t: Target): Promise<void> {
  const source = await oddTree();
  try {
    const first = await run(t, source);
    const failed = first.files.filter((f) => f.status === "failed");
    assert.equal(failed.length, 5, JSON.stringify(failed));
    for (const f of failed) assert.equal(f.attempts, 0, f.destination);
    const lf = failed.find((f) => f.destination.includes("\n"))!;
    assert.match(lf.error!, /U\+000A \(a line feed\), which FTP cannot carry/);
    assert.equal(failed.filter((f) => /NFC normalization/.test(f.error!)).length, 2);
    assert.equal(failed.filter((f) => /not valid UTF-8/.test(f.error!)).length, 2);
    assert.equal(first.files.filter((f) => f.status === "uploaded").length, 12);
    const seen = await t.commands();
    // A refused name starts a path component (or a line: the line feed's second half); the
    // temp names' hex fingerprints may hold "caf" or "bad" anywhere else.
    assert.doesNotMatch(
      seen,
      /(^|[\s/])\.?(line|feed\.txt|caf|bad)/m,
      "no command may name a refused file",
    );
    for (const name of await Array.fromAsync(Deno.readDir(join(t.root, "site")))) {
      assert.match(name.name, /^f\d+\.txt$/, "only the plain files reach the server");
    }
    // The re-run: the refused names fail again at once; the chunk's other files are skipped.
    const again = await run(t, source);
    assert.equal(again.files.filter((f) => f.status === "skipped").length, 12);
    assert.equal(again.files.filter((f) => f.status === "uploaded").length, 0);
    assert.equal(again.files.filter((f) => f.status === "failed").length, 5);
  } finally {
    await Deno.remove(source, { recursive: true });
  }
}

/** The server holds an NFD name of the same size and time; the NFC destination must be made. */
async function remoteNfd(t: Target, seedOwner?: (path: string) => Promise<void>): Promise<void> {
  const source = await Deno.makeTempDir({ prefix: "ftpbatch-nfd-" });
  try {
    const local = join(source, "caf\u00e9.txt");
    await Deno.writeTextFile(local, "local bytes");
    const when = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000);
    await Deno.utime(local, when, when);
    await Deno.mkdir(join(t.root, "site"), { recursive: true });
    const remoteNfd = join(t.root, "site", "cafe\u0301.txt");
    await Deno.writeTextFile(remoteNfd, "other bytes");
    await Deno.utime(remoteNfd, when, when);
    await seedOwner?.(join(t.root, "site"));
    const report = await run(t, source);
    assert.equal(report.files[0].status, "uploaded", JSON.stringify(report.files[0]));
    assert.equal(await Deno.readTextFile(join(t.root, "site", "caf\u00e9.txt")), "local bytes");
    assert.equal(await Deno.readTextFile(remoteNfd), "other bytes");
  } finally {
    await Deno.remove(source, { recursive: true });
  }
}

function embedded(fn: (t: Target) => Promise<void>) {
  return () =>
    withServer({ port: 0 }, (server) =>
      fn({
        server: { host: server.host, port: server.port },
        commands: () => Promise.resolve(server.stats.commands.join("\n")),
        root: server.root,
        rule: "size",
      }));
}

Deno.test({
  name: "odd local names fail at once, the rest of the chunk is still skip-checked (embedded)",
  ...integration,
  fn: embedded(oddNames),
});

Deno.test({
  name: "a remote NFD name is not the NFC destination (embedded)",
  ...integration,
  fn: embedded(remoteNfd),
});

for (const kind of ["vsftpd", "pyftpdlib"] as const) {
  const target = (server: Parameters<Parameters<typeof realServerTest>[2]>[0]): Target => ({
    server: { host: server.host, port: server.port, user: server.user },
    password: server.password,
    commands: () => server.log(),
    root: server.root,
    rule: "size+mtime",
  });
  realServerTest(
    `${kind}: odd local names fail at once, the rest of the chunk is still skip-checked`,
    { kind },
    (server) => oddNames(target(server)),
  );
  realServerTest(
    `${kind}: a remote NFD name of the same size and time is not the NFC destination`,
    { kind },
    (server) => remoteNfd(target(server), (p) => server.seedOwner(p)),
  );
}
