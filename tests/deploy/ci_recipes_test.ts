/**
 * Keeps the CI recipes honest (`action.yml`, `deploy/ci/gitlab-ci.yml`,
 * `deploy/ci/ftpbatch.json`): the GitHub Action's deploy step and the GitLab
 * job's script run as written (bash, their env and variables, `${{ … }}`
 * expanded as the runner would, `deno` on PATH being this Deno) against the
 * embedded server: a first deploy sends the site, a second sends nothing,
 * the password never shows. The install steps (npm) are checked for their
 * shape and the pinned version; running them needs the npm registry, so only
 * `FTPBATCH_TEST_NPM=1` does.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { validateConfig } from "../../src/config/validate.ts";
import { startEmbeddedServer } from "../../src/server/embedded_server.ts";
import { serverTree, writeTree } from "./deploy_kit.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const PASSWORD = "pw-act10n-s3cret";

// deno-lint-ignore no-explicit-any
type Doc = any;

async function yamlDoc(rel: string): Promise<Doc> {
  return parse(await Deno.readTextFile(join(ROOT, rel)));
}

/** `${{ inputs.x }}` / `${{ github.y }}` as the Actions runner expands them. */
function expand(text: string, ctx: Record<string, Record<string, string>>): string {
  return text.replace(/\$\{\{\s*(\w+)\.([\w-]+)\s*\}\}/g, (all, scope, key) => {
    const v = ctx[scope]?.[key];
    assert.ok(v !== undefined, `unknown expression ${all}`);
    return v;
  });
}

/** A folder with `deno` in it: this Deno, as the npm install would put one on PATH. */
async function denoOnPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-bin-" });
  await Deno.symlink(Deno.execPath(), join(dir, "deno"));
  return dir;
}

async function bash(script: string, env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command("bash", {
    args: ["-eo", "pipefail", "-c", script],
    env,
    clearEnv: true,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** A workspace with a site and the example config pointed at `server`. */
async function workspace(host: string, port: number): Promise<string> {
  const ws = await Deno.makeTempDir({ prefix: "ftpbatch-ws-" });
  await writeTree(join(ws, "public"), { "index.html": "home", "css/a.css": "a{}" });
  const example = JSON.parse(await Deno.readTextFile(join(ROOT, "deploy/ci/ftpbatch.json")));
  example.server = { ...example.server, host, port, user: "deploy", secure: false };
  // Where the recipes expect it in a user's repository (its "source" is "../public/").
  await Deno.mkdir(join(ws, "deploy"), { recursive: true });
  await Deno.writeTextFile(join(ws, "deploy/ftpbatch.json"), JSON.stringify(example));
  return ws;
}

function baseEnv(bin: string, ws: string): Record<string, string> {
  const home = Deno.env.get("HOME") ?? "/root";
  const env: Record<string, string> = {
    PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    HOME: home,
    NO_COLOR: "1",
    RUNNER_TEMP: join(ws, ".runner-temp"),
    GITHUB_PATH: join(ws, ".github-path"),
  };
  // What the machine needs to reach a registry (a runner has these in its environment too).
  for (const [name, v] of Object.entries(Deno.env.toObject())) {
    if (/^(DENO_DIR|XDG_CACHE_HOME|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|npm_config_.*)$/i.test(name)) {
      env[name] = v;
    }
    if (/^(https?|no)_proxy$/i.test(name)) env[name] = v;
  }
  return env;
}

Deno.test("the example deploy config validates", async () => {
  const example = JSON.parse(await Deno.readTextFile(join(ROOT, "deploy/ci/ftpbatch.json")));
  const config = await validateConfig(example, join(ROOT, "deploy/ci/ftpbatch.json"));
  assert.equal(config.options.skip, "hash");
  assert.deepEqual(config.files[0].tree?.mirror, {
    keep: [".well-known/**", "uploads/**", ".htaccess"],
  });
});

Deno.test({
  name: "action.yml: the deploy step runs as written against a local server",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const action = await yamlDoc("action.yml");
    assert.equal(action.runs.using, "composite");
    const [install, deploy] = action.runs.steps;
    assert.equal(action.inputs["deno-version"].default, Deno.version.deno);
    assert.match(install.run, /npm install .*"deno@\$FTPBATCH_DENO_VERSION"/);
    assert.equal(install.env.FTPBATCH_DENO_VERSION, "${{ inputs.deno-version }}");
    // Secrets go through the environment, never the command line.
    assert.ok(!deploy.run.includes("${{"), "no expression inside the script");

    const root = await Deno.makeTempDir({ prefix: "ftpbatch-srv-" });
    const server = await startEmbeddedServer({ root, user: "deploy", password: PASSWORD });
    const ws = await workspace(server.host, server.port);
    const bin = await denoOnPath();
    try {
      const inputs: Record<string, string> = {};
      for (const [k, v] of Object.entries(action.inputs as Record<string, Doc>)) {
        inputs[k] = v.default ?? "";
      }
      Object.assign(inputs, { config: "deploy/ftpbatch.json", password: PASSWORD });
      const ctx = { inputs, github: { action_path: ROOT } };
      const env = { ...baseEnv(bin, ws) };
      for (const [k, v] of Object.entries(deploy.env as Record<string, string>)) {
        env[k] = expand(v, ctx);
      }
      const first = await bash(deploy.run, env, ws);
      assert.equal(first.code, 0, first.text);
      assert.ok(!first.text.includes(PASSWORD), "the password stays hidden");
      assert.deepEqual(
        [...(await serverTree(root)).keys()].filter((k) => !k.includes(".ftpbatch")),
        [
          "public_html/",
          "public_html/css/",
          "public_html/css/a.css",
          "public_html/index.html",
        ],
      );
      const report = JSON.parse(await Deno.readTextFile(join(ws, "ftpbatch-report.json")));
      assert.equal(report.totals.uploaded, 2);
      // A fresh checkout: new times, same bytes; the remote lock was taken and let go.
      const later = new Date(Date.now() + 86_400_000);
      for (const f of ["index.html", "css/a.css"]) {
        await Deno.utime(join(ws, "public", f), later, later);
      }
      const second = await bash(deploy.run, env, ws);
      assert.equal(second.code, 0, second.text);
      const again = JSON.parse(await Deno.readTextFile(join(ws, "ftpbatch-report.json")));
      assert.deepEqual([again.totals.uploaded, again.totals.skipped], [0, 2]);
      assert.ok(server.stats.commands.includes("MKD /public_html/.ftpbatch-lock"));
      assert.ok(!(await serverTree(root)).has("public_html/.ftpbatch-lock/"));
    } finally {
      await server.close();
      for (const d of [root, ws, bin]) await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test({
  name: "deploy/ci/gitlab-ci.yml: the job's script runs as written against a local server",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const job = (await yamlDoc("deploy/ci/gitlab-ci.yml")).deploy;
    const [install, fetch, upload] = job.script as string[];
    assert.equal(job.variables.DENO_VERSION, Deno.version.deno);
    assert.match(install, /^npm install --global .*"deno@\$\{DENO_VERSION\}"$/);
    assert.match(fetch, /^test -f \.ftpbatch\/deno\.json \|\| git clone/);
    const root = await Deno.makeTempDir({ prefix: "ftpbatch-srv-" });
    const server = await startEmbeddedServer({ root, user: "deploy", password: PASSWORD });
    const ws = await workspace(server.host, server.port);
    const bin = await denoOnPath();
    try {
      await Deno.symlink(ROOT, join(ws, ".ftpbatch")); // the vendored copy: no clone
      const env = { ...baseEnv(bin, ws), ...job.variables, FTP_PASSWORD: PASSWORD };
      const out = await bash(`${fetch}\n${upload}`, env, ws);
      assert.equal(out.code, 0, out.text);
      assert.ok(!out.text.includes(PASSWORD));
      const report = JSON.parse(await Deno.readTextFile(join(ws, job.artifacts.paths[0])));
      assert.equal(report.totals.uploaded, 2);
      assert.equal((await serverTree(root)).get("public_html/index.html"), "home");
    } finally {
      await server.close();
      for (const d of [root, ws, bin]) await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test({
  name: "action.yml: the install step gets Deno from npm",
  ignore: Deno.env.get("FTPBATCH_TEST_NPM") !== "1",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const action = await yamlDoc("action.yml");
    const install = action.runs.steps[0];
    const ws = await Deno.makeTempDir({ prefix: "ftpbatch-ws-" });
    try {
      const env: Record<string, string> = {
        ...baseEnv("/nonexistent", ws),
        FTPBATCH_DENO_VERSION: String(action.inputs["deno-version"].default),
      };
      await Deno.mkdir(env.RUNNER_TEMP, { recursive: true });
      const out = await bash(install.run, env, ws);
      assert.equal(out.code, 0, out.text);
      const bin = (await Deno.readTextFile(env.GITHUB_PATH)).trim();
      const version = await bash("deno --version", { ...env, PATH: `${bin}:${env.PATH}` }, ws);
      assert.match(version.text, new RegExp(`deno ${Deno.version.deno.replaceAll(".", "\\.")}`));
    } finally {
      await Deno.remove(ws, { recursive: true });
    }
  },
});
