/**
 * Round trips per file on every server of the test matrix (vsftpd,
 * pure-ftpd, the three ProFTPD configurations, pyftpdlib): what `deno task
 * bench --latency` counts against vsftpd alone, for the servers whose replies
 * decide how much ftpbatch may pipeline (`src/ftp/trailing.ts`). Each server
 * gets the same small set (N files of 4 KiB in 10 folders) through the
 * latency proxy, uploaded by `main.ts upload` of the checkout given; the
 * bytes on the server are checked.
 *
 * ```sh
 * deno run -A bench/latency_servers.ts [--project DIR] [--files 200] [--workers 4] [--rtt 20]
 * ```
 *
 * Round trips are counted from the byte flow (`latency_proxy.ts`), so they do
 * not depend on the machine's load; the wall times printed beside them do.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { MATRIX, startServer } from "../tests/helpers/real_server.ts";
import { roundTrips, startLatencyProxy } from "./latency_proxy.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    project: { type: "string" },
    files: { type: "string" },
    workers: { type: "string" },
    rtt: { type: "string" },
    servers: { type: "string" },
  },
});
const project = values.project ?? new URL("..", import.meta.url).pathname;
const files = Number(values.files ?? 200);
const workers = Number(values.workers ?? 4);
const rtt = Number(values.rtt ?? 20);
const only = values.servers?.split(",");

const byteAt = (i: number, k: number) => (i * 31 + k * 7) & 0xff;

/** One upload of the set to `entry`'s server through the proxy: its figures, as one line. */
async function measure(entry: typeof MATRIX[number], dir: string): Promise<string> {
  const server = await startServer(entry.options);
  try {
    const list = [];
    for (let i = 0; i < files; i++) {
      const rel = `d${i % 10}/f${i}.bin`;
      await Deno.mkdir(`${dir}/src/d${i % 10}`, { recursive: true });
      await Deno.writeFile(
        `${dir}/src/${rel}`,
        Uint8Array.from({ length: 4096 }, (_, k) => byteAt(i, k)),
      );
      list.push({ source: `${dir}/src/${rel}`, destination: `/${rel}` });
    }
    const proxy = startLatencyProxy({ host: server.host, port: server.port }, {
      oneWayMs: rtt / 2,
      handshake: true,
    });
    const config = `${dir}/config.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        server: { host: proxy.host, port: proxy.port, user: server.user, passwordEnv: "BENCH_PW" },
        options: {},
        files: list,
      }),
    );
    const t0 = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${project}/main.ts`, "upload", config, "--workers", String(workers)]
        .concat(["--quiet", "--report", `${dir}/report.json`]),
      env: { BENCH_PW: server.password },
      stdout: "null",
      stderr: "null",
    }).output();
    const wall = (performance.now() - t0) / 1000;
    await proxy.close();
    let bad = 0;
    for (let i = 0; i < files; i++) {
      const got = await Deno.readFile(`${server.root}/d${i % 10}/f${i}.bin`).catch(() => null);
      if (got?.length !== 4096 || got.some((b, k) => b !== byteAt(i, k))) bad++;
    }
    const rt = roundTrips(proxy.stats);
    return `${entry.name.padEnd(28)} exit ${out.code}, ${files - bad}/${files} exact, ` +
      `${(rt / files).toFixed(2)} RT/file, ${
        (proxy.stats.commands / files).toFixed(2)
      } cmds/file, ` +
      `${wall.toFixed(1)} s wall`;
  } finally {
    await server.close();
  }
}

console.log(
  `${files} files × 4 KiB, 10 folders, ${workers} connections, ${rtt} ms RTT, ${project}`,
);
for (const entry of MATRIX) {
  if (only && !only.includes(entry.name)) continue;
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-latency-servers-" });
  try {
    console.log(await measure(entry, dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
