/**
 * The live progress line under a pseudo-terminal: `script` (util-linux) runs
 * the CLI with a terminal on stderr (and stdout, unless redirected), and
 * everything written to it comes back on script's stdout.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliTest, MAIN } from "./cli_process.ts";

const PASSWORD = "pw-53cr3t";
const CLEAR = "\r\x1b[2K";

const hasScript = await new Deno.Command("script", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs `upload CONFIG ...flags` with a terminal on stderr; `stdoutTo` sends stdout to a file. */
async function underTty(config: string, flags: string[], stdoutTo?: string) {
  const cmd = [
    Deno.execPath(),
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-net",
    "--allow-env",
    "--allow-sys",
    MAIN,
    "upload",
    config,
    ...flags,
  ].map(quote).join(" ") + (stdoutTo ? ` > ${quote(stdoutTo)}` : "");
  const out = await new Deno.Command("script", {
    args: ["-qfec", cmd, "/dev/null"],
    env: { NO_COLOR: "1", TERM: "xterm" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, tty: new TextDecoder().decode(out.stdout) };
}

cliTest(
  "progress line on a terminal: redrawn in place, counting bytes in flight; " +
    "absent under --quiet and --json",
  { count: 2, sizeOf: () => 1_500_000, options: { workers: 2 } },
  async ({ server, data }) => {
    // Slow enough that the line is drawn many times while both files are under way.
    server.faults.throttleBytesPerSecond = 1_000_000;
    const r = await underTty(data.configPath, []);
    assert.equal(r.code, 0, r.tty);
    assert.ok(!r.tty.includes(PASSWORD));
    const draws = r.tty.split(CLEAR).slice(1);
    const lines = draws.filter((d) => d.startsWith("progress: "));
    assert.ok(lines.length >= 3, `redrawn in place: ${JSON.stringify(r.tty)}`);
    const shape =
      /^progress: (\d)\/2 files, ([\d.]+ (?:B|KiB|MiB)) of 2\.9 MiB sent, (\? B|[\d.]+ (?:B|KiB|MiB))\/s, ETA [^,]+, (\d) connections?, 0 retries$/;
    for (const l of lines) assert.match(l, shape);
    // Bytes of the files under way count before either file is done.
    assert.ok(
      lines.some((l) => l.match(shape)![1] === "0" && l.match(shape)![2] !== "0 B"),
      `bytes in flight: ${lines.join(" | ")}`,
    );
    assert.ok(lines.some((l) => !l.includes("? B/s")), "a rate once known");
    // The line is wiped before the summary: nothing after the last clear but the summary.
    const tail = draws[draws.length - 1];
    assert.ok(!tail.includes("progress:"), JSON.stringify(tail));
    assert.match(tail, /2 files: 2 uploaded/);
    assert.equal(tail.split("\n").length, r.tty.split(CLEAR).pop()!.split("\n").length);

    // Sent again (--force: the files are on the server now), so there is progress to hide.
    const stores = () => server.stats.commands.filter((c) => c.startsWith("STOR ")).length;
    const before = stores();
    const quiet = await underTty(data.configPath, ["--quiet", "--force"]);
    assert.equal(stores(), before + 2, "both files sent again");
    assert.equal(quiet.code, 0, quiet.tty);
    assert.ok(!quiet.tty.includes("progress"), JSON.stringify(quiet.tty));
    assert.ok(!quiet.tty.includes("\r\x1b"), JSON.stringify(quiet.tty));

    const ndjson = join(data.dir, "events.ndjson");
    const json = await underTty(data.configPath, ["--json", "--force"], ndjson);
    assert.equal(json.code, 0, json.tty);
    assert.ok(!json.tty.includes("progress"), JSON.stringify(json.tty));
    assert.ok(!json.tty.includes("\r\x1b"), JSON.stringify(json.tty));
    assert.match(json.tty, /2 files: 2 uploaded/, "the summary stays on stderr");
    const events = (await Deno.readTextFile(ndjson)).trimEnd().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(events.map((e) => e.type), ["run-start", "file", "file", "run-end"]);
  },
  { ignore: !hasScript },
);
