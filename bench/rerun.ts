/**
 * The re-run benchmark: what a nightly job costs when little or nothing
 * changed. On the `small` set (2,000 files in 40 folders): a first upload to
 * an empty server, the same run again with nothing changed (target: under
 * 10 % of the first run's wall time, no STOR), then the same run after
 * touching 10 files (target: exactly those 10 sent). STORs are counted in
 * vsftpd's protocol log (the skip phase's time probe, a STOR of a temporary
 * name removed after, is counted apart); which files were sent comes from the report.
 *
 * The set's times are first moved two hours back: vsftpd lists times to the
 * minute (LIST, no MLSD), so a file touched in the minute it was uploaded
 * would look unchanged. Real nightly runs do not upload and edit within one
 * minute; the benchmark must not depend on the clock either.
 *
 * @module
 */

import type { DataSet } from "./datasets.ts";
import { emptyRoot, isTimeProbe, type LogCursor, storedPaths, verifyTree } from "./server_check.ts";
import {
  DENO_RUN_FLAGS,
  ftpbatchConfig,
  PASSWORD_ENV,
  project,
  type ServerInfo,
  spawnTimed,
} from "./tools.ts";

export interface RerunResult {
  parallel: number;
  files: number;
  firstS: number;
  rerunS: number;
  /** Re-run wall time over first-run wall time. */
  ratio: number;
  rerunStors: number;
  rerunSkipped: number;
  rerunBytesSent: number;
  touched: number;
  touchedS: number;
  touchedStors: number;
  /** STORs of the time probe in the touched run (not files; not in `touchedStors`). */
  touchedProbeStors: number;
  /** The touched files were exactly the ones uploaded. */
  touchedExact: boolean;
  problems: string[];
}

export interface RerunOptions {
  server: ServerInfo;
  serverRoot: string;
  cursor: LogCursor;
  set: DataSet;
  scratch: string;
  parallel: number;
  timeoutMs: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

interface ReportLike {
  totals: { uploaded: number; skipped: number; failed: number; missing: number; bytesSent: number };
  files: { destination: string; status: string }[];
}

const TOUCHED = 10;

export async function runRerun(o: RerunOptions): Promise<RerunResult> {
  const problems: string[] = [];
  const config = `${o.scratch}/rerun.ftpbatch.json`;
  await Deno.writeTextFile(config, ftpbatchConfig(o.set, o.server));
  const run = async (label: string) => {
    const report = `${o.scratch}/rerun-${label}.report.json`;
    const mark = await o.cursor.mark();
    const out = await spawnTimed(
      Deno.execPath(),
      [...DENO_RUN_FLAGS, project.main, "upload", config, "--workers", String(o.parallel)]
        .concat(["--quiet", "--report", report]),
      {
        env: { [PASSWORD_ENV]: o.server.password },
        cwd: project.dir,
        timeoutMs: o.timeoutMs,
        signal: o.signal,
      },
    );
    await new Promise((r) => setTimeout(r, 50)); // session processes finish their log lines
    // The skip phase's time probe is a STOR too, of a temporary name removed after: not a file.
    const stored = storedPaths(await o.cursor.since(mark));
    const probes = stored.filter(isTimeProbe).length;
    if (out.code !== 0) problems.push(`${label}: exit ${out.code}: ${out.stderr.slice(0, 300)}`);
    let r: ReportLike | undefined;
    try {
      r = JSON.parse(await Deno.readTextFile(report)) as ReportLike;
    } catch (e) {
      problems.push(`${label}: no readable report: ${(e as Error).message}`);
    }
    return { wallS: out.wallS, stors: stored.length - probes, probes, report: r };
  };

  await emptyRoot(o.serverRoot);
  const back = new Date(Date.now() - 2 * 3_600_000);
  for (const f of o.set.files) await Deno.utime(`${o.set.dir}/${f.rel}`, back, back);

  const first = await run("first");
  if (first.report && first.report.totals.uploaded !== o.set.files.length) {
    problems.push(`first run: ${first.report.totals.uploaded} uploaded`);
  }
  const again = await run("unchanged");
  const t = again.report?.totals;
  if (t && t.skipped !== o.set.files.length) problems.push(`re-run: ${t.skipped} skipped`);
  if (again.stors !== 0) problems.push(`re-run: ${again.stors} STOR`);

  const step = Math.floor(o.set.files.length / TOUCHED);
  const touched = new Set<string>();
  const now = new Date();
  for (let i = 0; i < TOUCHED; i++) {
    const f = o.set.files[i * step];
    await Deno.utime(`${o.set.dir}/${f.rel}`, now, now);
    touched.add(`/${f.rel}`);
  }
  const after = await run("touched");
  const sent = new Set(
    after.report?.files.filter((f) => f.status === "uploaded").map((f) => f.destination) ?? [],
  );
  const touchedExact = sent.size === touched.size && [...touched].every((d) => sent.has(d));
  if (!touchedExact) problems.push(`after touching ${TOUCHED}: ${sent.size} uploaded`);
  if (after.stors !== TOUCHED) problems.push(`after touching ${TOUCHED}: ${after.stors} STOR`);
  problems.push(...await verifyTree(o.serverRoot, o.set, o.set.sample));

  const result: RerunResult = {
    parallel: o.parallel,
    files: o.set.files.length,
    firstS: first.wallS,
    rerunS: again.wallS,
    ratio: again.wallS / first.wallS,
    rerunStors: again.stors,
    rerunSkipped: t?.skipped ?? 0,
    rerunBytesSent: t?.bytesSent ?? -1,
    touched: TOUCHED,
    touchedS: after.wallS,
    touchedStors: after.stors,
    touchedProbeStors: after.probes,
    touchedExact,
    problems,
  };
  o.log(
    `re-run ×${o.parallel}: first ${first.wallS.toFixed(2)} s, unchanged ${
      again.wallS.toFixed(2)
    } s (${(result.ratio * 100).toFixed(1)} %, ${again.stors} STOR), ${TOUCHED} touched ${
      after.wallS.toFixed(2)
    } s (${after.stors} STOR, ${after.probes} time probe)${
      problems.length ? `; problems: ${problems.join("; ")}` : ""
    }`,
  );
  return result;
}

/** The issue's targets for the re-run, in the shape of bench.ts's target rows. */
export function rerunTargets(r: RerunResult) {
  return [
    {
      name: `small ×${r.parallel} re-run, nothing changed: wall / first run's wall`,
      goal: "< 10 %, no STOR",
      value: `${(r.ratio * 100).toFixed(1)} %, ${r.rerunStors} STOR`,
      pass: r.ratio < 0.1 && r.rerunStors === 0 && r.rerunSkipped === r.files,
    },
    {
      name: `small ×${r.parallel} re-run after touching ${r.touched} files: files sent`,
      goal: `exactly those ${r.touched}`,
      value: `${r.touchedStors} STOR${
        r.touchedExact ? ", the touched ones" : ", not the touched ones"
      }`,
      pass: r.touchedExact && r.touchedStors === r.touched,
    },
  ];
}
