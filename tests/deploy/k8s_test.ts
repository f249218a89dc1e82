/**
 * Keeps `deploy/k8s/` and the examples of `docs/sharding.md` honest: parses the
 * manifests, checks that their numbers agree (completions, shard count,
 * merge inputs, mounts), and runs each index's exact command line through
 * the CLI the way Kubernetes would (`$(VAR)` expanded, the manifest's env,
 * `JOB_COMPLETION_INDEX` set, volumes mapped to temporary folders) with
 * `--dry-run`, then the merge Job's command. A flag, a command or an
 * environment variable name the CLI does not know fails here.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config/load.ts";
import { EXIT } from "../../src/report/report.ts";
import { integrationTest } from "../helpers/kit.ts";
import { cleanCli, taskPermissions } from "../cli/cli_process.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// deno-lint-ignore no-explicit-any
type Doc = any;

async function docs(path: string): Promise<Doc[]> {
  const text = await Deno.readTextFile(join(ROOT, path));
  return parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, [], `${path}: YAML errors`);
    return d.toJS();
  });
}

/** Kubernetes' `$(VAR)` expansion in command and args. */
function expand(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name) => env[name] ?? all);
}

/** Runs a container's command as the pod would, `ftpbatch` being main.ts. */
async function runContainer(command: string[], env: Record<string, string>) {
  assert.equal(command[0], "ftpbatch", "the image's binary");
  // The compiled binary's permissions (deno.json's compile task); only the pod's variables.
  return await cleanCli(await taskPermissions("compile"), command.slice(1), env);
}

/** Replaces each mount path prefix with its temporary folder. */
function mapPaths(text: string, mounts: Map<string, string>): string {
  let out = text;
  for (const [mountPath, local] of mounts) out = out.replaceAll(mountPath + "/", local + "/");
  return out;
}

integrationTest(
  "deploy/k8s: the indexed Job and the merge Job run as written against the CLI",
  async () => {
    const upload = await docs("deploy/k8s/upload-job.yaml");
    const [mergeJob] = await docs("deploy/k8s/merge-job.yaml");
    const configMap = upload.find((d) => d.kind === "ConfigMap");
    const job = upload.find((d) => d.kind === "Job");
    const pvc = upload.find((d) => d.kind === "PersistentVolumeClaim");
    assert.ok(configMap && job && pvc && mergeJob?.kind === "Job");

    // The Job: indexed, one completion per shard, exit codes it reacts to are ftpbatch's.
    assert.equal(job.spec.completionMode, "Indexed");
    const pod = job.spec.template.spec;
    assert.equal(pod.restartPolicy, "Never", "podFailurePolicy needs it");
    const [container] = pod.containers;
    const env: Record<string, string> = {};
    for (const e of container.env) {
      if (e.value !== undefined) env[e.name] = e.value;
      else {
        assert.ok(e.valueFrom?.secretKeyRef, `${e.name}: from a Secret`);
        env[e.name] = "not-the-real-password";
      }
    }
    const count = Number(env.FTPBATCH_SHARD_COUNT);
    assert.equal(job.spec.completions, count, "completions = FTPBATCH_SHARD_COUNT");
    assert.ok(job.spec.parallelism <= count);
    const codes: number[] = Object.values(EXIT);
    for (const rule of job.spec.podFailurePolicy?.rules ?? []) {
      for (const code of rule.onExitCodes?.values ?? []) assert.ok(codes.includes(code), `${code}`);
      if (rule.onExitCodes) assert.equal(rule.onExitCodes.containerName, container.name);
    }

    // The config: valid, its password variable comes from the Secret, mounted where the command reads it.
    const configVolume = pod.volumes.find((v: Doc) =>
      v.configMap?.name === configMap.metadata.name
    );
    const configMount = container.volumeMounts.find((m: Doc) => m.name === configVolume.name);
    const [key] = Object.keys(configMap.data);
    const configPath = `${configMount.mountPath}/${key}`;
    assert.equal(container.command[2], configPath);
    const config = await parseConfig(configMap.data[key], configPath);
    assert.ok(config.server.passwordEnv, "the password comes from the environment");
    assert.ok(
      container.env.find((e: Doc) => e.name === config.server.passwordEnv)?.valueFrom?.secretKeyRef,
      `${config.server.passwordEnv} from a Secret`,
    );
    // Both Jobs write and read the reports on the same claim.
    const claimOf = (spec: Doc, name: string) =>
      spec.volumes.find((v: Doc) => v.name === name)?.persistentVolumeClaim?.claimName;
    const mergePod = mergeJob.spec.template.spec;
    assert.equal(claimOf(pod, "reports"), pvc.metadata.name);
    assert.equal(claimOf(mergePod, "reports"), pvc.metadata.name);
    assert.ok(pvc.spec.accessModes.includes("ReadWriteMany"), "pods on several nodes write");

    // Run it: each volume is a temporary folder; the data volume gets the config's sources.
    const tmp = await Deno.makeTempDir({ prefix: "ftpbatch-k8s-" });
    try {
      const mounts = new Map<string, string>();
      for (const m of [...container.volumeMounts, ...mergePod.containers[0].volumeMounts]) {
        mounts.set(m.mountPath, join(tmp, m.name));
        await Deno.mkdir(join(tmp, m.name), { recursive: true });
      }
      const localConfig = mapPaths(configMap.data[key], mounts);
      await Deno.writeTextFile(mapPaths(configPath, mounts), localConfig);
      for (const f of (await parseConfig(localConfig, "config.json")).files) {
        await Deno.mkdir(dirname(f.source), { recursive: true });
        await Deno.writeTextFile(f.source, `content of ${f.destination}\n`);
      }
      const shardFiles: number[] = [];
      for (let k = 0; k < count; k++) {
        const podEnv = { ...env, JOB_COMPLETION_INDEX: String(k) };
        const command = container.command.map((a: string) => mapPaths(expand(a, podEnv), mounts));
        const r = await runContainer([...command, "--dry-run"], podEnv);
        assert.equal(r.code, 0, `index ${k}: ${r.stderr}`);
        const reportArg = command[command.indexOf("--report") + 1];
        const report = JSON.parse(await Deno.readTextFile(reportArg));
        assert.deepEqual([report.shard.index, report.shard.count], [k, count]);
        shardFiles.push(report.files.length);
      }
      assert.equal(shardFiles.reduce((a, b) => a + b, 0), config.files.length);

      const merge = mergePod.containers[0].command.map((a: string) => mapPaths(a, mounts));
      const m = await runContainer(merge, {});
      assert.equal(m.code, 0, m.stderr);
      const merged = JSON.parse(await Deno.readTextFile(merge[merge.indexOf("--output") + 1]));
      assert.equal(merged.totals.files, config.files.length);
      assert.equal(merged.merged.count, count);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);

Deno.test("docs/sharding.md links the checked-in manifests and shows a consistent CI matrix", async () => {
  const page = await Deno.readTextFile(join(ROOT, "docs/sharding.md"));
  const blocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  for (const path of ["deploy/k8s/upload-job.yaml", "deploy/k8s/merge-job.yaml"]) {
    assert.ok(page.includes(`](../${path})`), `docs/sharding.md links ${path}`);
  }
  // Linked, not copied: a copy would drift from the files the test above runs.
  assert.ok(!blocks.some((b) => b.includes("apiVersion:")), "no manifest copied into the page");
  const ci = blocks.find((b) => b.startsWith("# .github/workflows/"));
  assert.ok(ci, "a CI matrix example");
  const [workflow] = parseAllDocuments(ci).map((d) => d.toJS());
  const shards: number[] = workflow.jobs.upload.strategy.matrix.shard;
  const runs = (job: Doc) => job.steps.flatMap((s: Doc) => (s.run ? [s.run as string] : []));
  const [upload] = runs(workflow.jobs.upload);
  const n = Number(upload.match(/--shard \$\{\{ matrix\.shard \}\}\/(\d+)/)?.[1]);
  assert.deepEqual(shards, [...Array(n).keys()], "the matrix lists shards 0..N-1");
  assert.match(upload, /^deno task upload \S+ --shard/);
  const [merge] = runs(workflow.jobs.merge);
  const inputs = [...Array(n).keys()].map((k) => `shard-${k}.json`).join(" ");
  assert.ok(merge.startsWith(`deno task report merge ${inputs} --output `), merge);
  assert.deepEqual(workflow.jobs.merge.needs, "upload");
  // The tasks the snippet runs exist.
  const tasks = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks;
  assert.ok(tasks.upload && tasks.report);
});
