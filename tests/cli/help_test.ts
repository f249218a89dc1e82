import assert from "node:assert/strict";
import { cli } from "./cli_process.ts";

Deno.test("every command answers --help and -h with its own text, exit 0", async () => {
  const cases: [string[], RegExp][] = [
    [["upload", "--help"], /^ftpbatch upload CONFIG/],
    [["upload", "cfg.json", "-h"], /^ftpbatch upload CONFIG/],
    [["upload", "cfg.json", "--bogus", "--help"], /^ftpbatch upload CONFIG/],
    [["serve", "--help"], /^ftpbatch serve ROOT/],
    [["demo", "--help"], /^ftpbatch demo/],
  ];
  for (const [args, text] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, text, args.join(" "));
    assert.equal(r.stderr, "", args.join(" "));
  }
  const upload = await cli(["upload", "--help"]);
  for (const word of ["--workers", "--report", "--dry-run", "Exit codes"]) {
    assert.ok(upload.stdout.includes(word), word);
  }
});

Deno.test("wrong words are a usage error naming the command, exit 2", async () => {
  for (
    const [args, text] of [
      [["upload"], /upload takes exactly one CONFIG file; see upload --help/],
      [["upload", "a.json", "--bogus"], /^upload: .*--bogus.*; see upload --help/],
      [["serve", "a", "b"], /serve takes exactly one ROOT folder/],
      [["demo", "extra"], /demo takes no arguments/],
      [["demo", "--workers", "0"], /--workers must be a whole number from 1 to 64/],
    ] as [string[], RegExp][]
  ) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, text, args.join(" "));
  }
});
