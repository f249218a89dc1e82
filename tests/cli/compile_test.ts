/**
 * The `deno compile`d single binary. `deno compile` needs Deno's runtime base
 * (denort), which it downloads on first use or takes from DENORT_BIN; where it
 * cannot be had, this test is skipped with a notice instead of failing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compareTree } from "../helpers/dataset.ts";
import { withDataset } from "../helpers/embedded.ts";
import { integration } from "../helpers/kit.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const outDir = await Deno.makeTempDir({ prefix: "ftpbatch-bin-" });
const binary = join(outDir, "ftpbatch");

/** Same flags as the `compile` task in deno.json, into a temp folder. */
async function compile(): Promise<string | undefined> {
  const task = JSON.parse(await Deno.readTextFile(join(repo, "deno.json"))).tasks.compile as string;
  const args = task.replace(/^deno /, "").replace(/--output \S+/, `--output ${binary}`).split(
    /\s+/,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (out.success) return undefined;
  return new TextDecoder().decode(out.stderr);
}

const failure = await compile();
if (failure !== undefined) await Deno.remove(outDir, { recursive: true });
const baseMissing = failure !== undefined &&
  /base binary|denort|dl\.deno\.land|dns error|error sending request/i.test(failure);
if (baseMissing) {
  console.error(
    "compile_test: SKIPPED: deno compile could not get its runtime base (denort) on this machine " +
      "(no download access). Set DENORT_BIN to a denort 2.9.6 binary to run this test.",
  );
}

Deno.test("deno compile task fails only for want of the runtime base", () => {
  // Any other compile error (a worker not included, a type error) is a real failure.
  assert.ok(failure === undefined || baseMissing, failure);
});

Deno.test({
  name: "compiled binary uploads with its bundled worker",
  ignore: failure !== undefined,
  ...integration,
  async fn() {
    try {
      await withDataset({ count: 12 }, {}, async ({ server, data }) => {
        const out = await new Deno.Command(binary, {
          args: ["upload", data.configPath, "--workers", "3"],
          cwd: outDir, // nothing from the source tree is reachable by a relative path
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        assert.deepEqual(await compareTree(server.root, data.expected), []);
      });
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  },
});
