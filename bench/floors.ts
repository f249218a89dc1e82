/**
 * Floors: what no FTP client on this machine can beat. Loopback TCP
 * throughput, the round trip of one FTP command (NOOP), the cost of one
 * minimal upload of a tiny file on one connection (PASV + STOR + 226), the
 * same with ftpbatch's atomic command sequence done by hand, and the start-up
 * time of `deno run main.ts`.
 *
 * @module
 */

import { RawFtp } from "../tests/helpers/raw_ftp.ts";
import { DENO_RUN_FLAGS, project, type ServerInfo, spawnTimed } from "./tools.ts";

export interface Floors {
  tcp: { bytes: number; seconds: number; mbPerS: number; streams: number }[];
  noop: { count: number; medianMs: number; meanMs: number; p90Ms: number };
  tinyStor: { count: number; size: number; meanMs: number; filesPerS: number };
  /** SIZE tmp, PASV, STOR tmp, SIZE tmp, RNFR, RNTO per file: ftpbatch's sequence, minimal client. */
  tinyAtomic: { count: number; size: number; meanMs: number; filesPerS: number };
  denoStartup: { runs: number; medianS: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Every floor, in order, the server's root emptied after the tiny uploads. */
export async function measureFloors(
  server: ServerInfo,
  emptyRoot: () => Promise<void>,
  log: (line: string) => void,
): Promise<Floors> {
  log("floors: loopback TCP, NOOP, tiny STOR, deno start-up ...");
  const tcp = [await tcpThroughput(2 * 2 ** 30, 1), await tcpThroughput(2 * 2 ** 30, 4)];
  const noop = await noopRtt(server);
  const tinyStor = await tinyUploads(server, "/floor-stor", 1000, false);
  const tinyAtomic = await tinyUploads(server, "/floor-atomic", 1000, true);
  await emptyRoot();
  const startup = await denoStartup();
  log(
    `floors: TCP ${tcp.map((t) => `${t.mbPerS.toFixed(0)} MB/s ×${t.streams}`).join(", ")}; ` +
      `NOOP ${noop.medianMs.toFixed(3)} ms; tiny STOR ${tinyStor.meanMs.toFixed(3)} ms/file; ` +
      `atomic sequence ${tinyAtomic.meanMs.toFixed(3)} ms/file; deno start-up ${
        startup.medianS.toFixed(2)
      } s`,
  );
  return { tcp, noop, tinyStor, tinyAtomic, denoStartup: startup };
}

/** Deno-to-Deno loopback TCP: `streams` connections, `bytes` in all. */
export async function tcpThroughput(bytes: number, streams: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const per = Math.floor(bytes / streams);
  const receiveOn = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(1 << 20);
    let got = 0;
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += n;
    }
    conn.close();
    return got;
  };
  const send = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const chunk = new Uint8Array(1 << 20).fill(7);
    let sent = 0;
    while (sent < per) {
      sent += await conn.write(chunk.subarray(0, Math.min(chunk.length, per - sent)));
    }
    conn.close();
  };
  const t0 = performance.now();
  const receivers = (async () => {
    const running: Promise<number>[] = [];
    for (let i = 0; i < streams; i++) running.push(receiveOn(await listener.accept()));
    return await Promise.all(running);
  })();
  const [received] = await Promise.all([receivers, ...Array.from({ length: streams }, send)]);
  const seconds = (performance.now() - t0) / 1000;
  listener.close();
  const total = (received as number[]).reduce((a, b) => a + b, 0);
  return { bytes: total, seconds, mbPerS: total / 1e6 / seconds, streams };
}

async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    out.push(performance.now() - t0);
  }
  return out;
}

/** Round trip of one command on a logged-in connection. */
export async function noopRtt(server: ServerInfo, count = 1000) {
  const ftp = await RawFtp.open(server.host, server.port, server.user, server.password);
  try {
    await timed(50, () => ftp.send("NOOP"));
    const ms = await timed(count, () => ftp.send("NOOP"));
    const sorted = [...ms].sort((a, b) => a - b);
    return {
      count,
      medianMs: median(ms),
      meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
      p90Ms: sorted[Math.floor(sorted.length * 0.9)],
    };
  } finally {
    await ftp.quit();
  }
}

/**
 * Per-file cost of tiny uploads on one connection into `dir` (created here).
 * `atomic` adds ftpbatch's extra commands around the STOR.
 */
export async function tinyUploads(
  server: ServerInfo,
  dir: string,
  count: number,
  atomic: boolean,
) {
  const size = 4096;
  const data = new Uint8Array(size).fill(42);
  const ftp = await RawFtp.open(server.host, server.port, server.user, server.password);
  try {
    await ftp.mkd(dir);
    const upload = async (i: number) => {
      const final = `${dir}/f${i}.bin`;
      if (!atomic) return await ftp.stor(final, data);
      const tmp = `${dir}/.f${i}.bin.tmp.part`;
      await ftp.send(`SIZE ${tmp}`); // 550: not there yet
      await ftp.stor(tmp, data);
      ftp.expect(await ftp.send(`SIZE ${tmp}`), 213, "SIZE");
      ftp.expect(await ftp.send(`RNFR ${tmp}`), 350, "RNFR");
      ftp.expect(await ftp.send(`RNTO ${final}`), 250, "RNTO");
    };
    await timed(20, (i) => upload(100_000 + i));
    const ms = await timed(count, upload);
    const meanMs = ms.reduce((a, b) => a + b, 0) / ms.length;
    return { count, size, meanMs, filesPerS: 1000 / meanMs };
  } finally {
    await ftp.quit();
  }
}

/** Wall time of `deno run main.ts --version`: the fixed cost of starting ftpbatch. */
export async function denoStartup(runs = 3) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = await spawnTimed(Deno.execPath(), [...DENO_RUN_FLAGS, project.main, "--version"], {
      cwd: project.dir,
      timeoutMs: 60_000,
    });
    if (out.code !== 0) throw new Error(`main.ts --version exited ${out.code}: ${out.stderr}`);
    times.push(out.wallS);
  }
  return { runs, medianS: median(times) };
}
