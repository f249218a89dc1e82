/**
 * The deploy manifest's writes (`run/deploy/deploy_manifest.ts`) against the
 * embedded server: a checkpoint is written while the run goes on (before
 * `close`), with each uploaded file's sha256 and the size and time the
 * server lists; a failed upload's entry is dropped; and a run interrupted
 * mid-way leaves a manifest of what it uploaded, so the next run with
 * `skip: "hash"` (every mtime changed) sends only the rest.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ContentSkip } from "../../../src/run/deploy/deploy_manifest.ts";
import { parseManifest } from "../../../src/plan/manifest.ts";
import { validateConfig } from "../../../src/config/validate.ts";
import { runUpload } from "../../../src/run/coordinator.ts";
import type { UploadJob } from "../../../src/upload/job.ts";
import { withServer } from "../../helpers/embedded.ts";
import { integration, withTempDir } from "../../helpers/kit.ts";
import { sha256 } from "../../helpers/dataset.ts";

async function manifestOn(root: string, dir = "site") {
  const bytes = await Deno.readFile(join(root, dir, ".ftpbatch-manifest.json")).catch(() => null);
  return bytes && parseManifest(bytes);
}

/** Polls `check` until it holds (a liveness bound, not a timing assertion). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "manifest: a checkpoint is written mid-run; failed uploads are forgotten",
  ...integration,
  fn: () =>
    withServer({}, (server) =>
      withTempDir("ftpbatch-mf-", async (dir) => {
        const root = server.root;
        const jobs: UploadJob[] = [];
        for (let i = 0; i < 4; i++) {
          const source = join(dir, `f${i}.txt`);
          await Deno.writeTextFile(source, `file ${i}`);
          // What an upload would have put there.
          await Deno.mkdir(join(root, "site"), { recursive: true });
          await Deno.writeTextFile(join(root, "site", `f${i}.txt`), `file ${i}`);
          const st = await Deno.stat(source);
          jobs.push({
            id: i,
            source,
            destination: `/site/f${i}.txt`,
            size: st.size,
            mtimeMs: st.mtime!.getTime(),
          });
        }
        const content = new ContentSkip({
          login: { host: server.host, port: server.port, secure: false },
          timeoutMs: 10_000,
          retries: 1,
          roots: ["/site"],
          readOnly: false,
          checkpointFiles: 2,
        });
        content.expect(jobs);
        content.settled(0, "uploaded");
        content.settled(1, "uploaded");
        await until(async () => (await manifestOn(root))?.size === 2, "a checkpoint of 2 files");
        const m = (await manifestOn(root))!;
        const entry = m.get("f0.txt")!;
        assert.equal(entry.sha256, await sha256(jobs[0].source));
        assert.equal(entry.size, jobs[0].size);
        assert.equal(entry.remoteSize, jobs[0].size);
        assert.equal(typeof entry.remoteMtimeMs, "number");
        content.settled(2, "uploaded");
        content.settled(3, "failed");
        content.forget("/site/f0.txt");
        await content.close();
        assert.deepEqual([...(await manifestOn(root))!.keys()].sort(), ["f1.txt", "f2.txt"]);
        // Written under a temporary name and renamed: none is left.
        const names = [];
        for await (const e of Deno.readDir(join(root, "site"))) names.push(e.name);
        assert.deepEqual(names.filter((n) => n.endsWith(".tmp")), []);
      })),
});

Deno.test({
  name: "manifest: an interrupted first deploy keeps its progress for the next run",
  ...integration,
  fn: () =>
    withServer({}, (server) =>
      withTempDir("ftpbatch-mf-", async (dir) => {
        const site = join(dir, "site");
        await Deno.mkdir(site);
        for (let i = 0; i < 40; i++) {
          await Deno.writeTextFile(join(site, `p${i}.html`), `page ${i}`);
        }
        const config = await validateConfig({
          server: { host: server.host, port: server.port },
          options: { workers: 1, retries: 0, skip: "hash" },
          files: [{ source: "site/", destination: "/site" }],
        }, join(dir, "c.json"));
        const stop = new AbortController();
        let told = 0;
        const first = await runUpload({
          config,
          signal: stop.signal,
          onEvent: (e) => {
            if (e.type === "file" && e.file.status === "uploaded" && ++told === 5) {
              stop.abort("SIGINT");
            }
          },
        });
        assert.equal(first.report.interrupted, "SIGINT");
        const uploaded = first.report.files.filter((f) => f.status === "uploaded");
        assert.ok(uploaded.length >= 5 && uploaded.length < 40, `${uploaded.length}`);
        const m = (await manifestOn(server.root))!;
        assert.deepEqual(
          [...m.keys()].sort(),
          uploaded.map((f) => f.destination.slice("/site/".length)).sort(),
        );
        // A fresh checkout: every time new, the bytes the same.
        const later = new Date(Date.now() + 86_400_000);
        for (let i = 0; i < 40; i++) await Deno.utime(join(site, `p${i}.html`), later, later);
        const again = await runUpload({ config });
        assert.equal(again.exitCode, 0);
        assert.equal(again.report.totals.skipped, uploaded.length);
        assert.equal(again.report.totals.uploaded, 40 - uploaded.length);
      })),
});
