/**
 * The fault scenarios of resume_test.ts against the real server: vsftpd on
 * loopback behind an FTP-aware fault proxy (helpers/fault_proxy.ts) that cuts
 * data connections at exact bytes, closes control connections, and refuses
 * REST / APPE. Bytes are checked on the server's disk. Ignored (the reason in the test name)
 * where vsftpd is not installed (see helpers/real_server.ts).
 */
import assert from "node:assert/strict";
import { posix } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { EARLY_DATA_BYTES } from "../../src/ftp/transport.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import type { ReportFile } from "../../src/report/report.ts";
import { bytesFor, compareTree, listTree, makeDataset } from "../helpers/dataset.ts";
import { type FaultProxy, type ProxyFaults, startFaultProxy } from "../helpers/fault_proxy.ts";
import { type RealServer, realServerCase, startServer } from "../helpers/real_server.ts";

const MiB = 1024 * 1024;

async function withProxy(
  faults: ProxyFaults,
  fn: (server: RealServer, proxy: FaultProxy) => Promise<void>,
): Promise<void> {
  const server = await startServer();
  let proxy: FaultProxy | undefined;
  try {
    proxy = await startFaultProxy({ host: server.host, port: server.port }, faults);
    await fn(server, proxy);
  } finally {
    await proxy?.close();
    await server.close();
  }
}

/** Uploads a dataset through the proxy; the caller's `check` sees everything. */
function scenario(opts: {
  faults: ProxyFaults;
  count: number;
  sizeOf: (i: number) => number;
  options?: Record<string, unknown>;
}, check: (r: Awaited<ReturnType<typeof upload>>) => Promise<void> | void): Promise<void> {
  return withProxy(opts.faults, async (server, proxy) => {
    const r = await upload(server, proxy, opts);
    await check(r);
  });
}

async function upload(server: RealServer, proxy: FaultProxy, opts: {
  count: number;
  sizeOf: (i: number) => number;
  options?: Record<string, unknown>;
}) {
  const data = await makeDataset({
    count: opts.count,
    sizeOf: opts.sizeOf,
    server: {
      host: proxy.host,
      port: proxy.port,
      user: server.user,
      passwordEnv: "FTPBATCH_TEST_PW",
    },
    // No skip phase: its own session through the proxy would shift the sessions these tests
    // count and the faults the proxy plays per session.
    options: { retries: 4, backoffBaseMs: 20, backoffMaxMs: 200, skip: "none", ...opts.options },
  });
  try {
    const outcome = await runUpload({
      config: await loadConfig(data.configPath),
      password: server.password,
    });
    return {
      server,
      proxy,
      outcome,
      files: outcome.report.files,
      mismatches: await compareTree(server.root, data.expected),
      tree: await listTree(server.root),
      /** Commands vsftpd itself received (its protocol log). */
      serverCommands: commandsIn(await server.log()),
    };
  } finally {
    await Deno.remove(data.dir, { recursive: true });
  }
}

/** `FTP command: Client "127.0.0.1", "REST 123"` lines of vsftpd's protocol log. */
function commandsIn(log: string): string[] {
  return [...log.matchAll(/FTP command: Client "[^"]*", "(.*)"$/gm)].map((m) => m[1]);
}

const starts = (prefix: string) => (c: string) => c.startsWith(prefix);

/** Exchanges as "session command -> reply" lines, for assertion messages. */
function transcript(proxy: FaultProxy): string {
  return proxy.stats.exchanges.filter((e) => !/^(MKD|OPTS|TYPE|STRU|USER|PASS)\b/.test(e.command))
    .map((e) => `${e.session} ${e.command} -> ${e.reply}`).join("\n");
}

/** The report entry whose temporary file is `tempPath` (atomic mode: `.NAME.ftpbatch-*.part`). */
function fileOfTemp(files: ReportFile[], tempPath: string): ReportFile {
  const f = files.find((f) =>
    posix.dirname(f.destination) === posix.dirname(tempPath) &&
    posix.basename(tempPath).startsWith(`.${posix.basename(f.destination)}.ftpbatch-`)
  );
  assert.ok(f, `no report entry for ${tempPath}`);
  return f;
}

/**
 * One file of `size` bytes through the proxy, one connection, its data cut at `cut`
 * (`faults(cut)`): it must end byte-exact and `uploaded`, tried twice; `check` sees its
 * report entry and the run.
 */
function cutFileTest(
  name: string,
  { size, cut }: { size: number; cut: number },
  faults: (cut: number) => ProxyFaults,
  check: (
    f: ReportFile,
    r: Awaited<ReturnType<typeof upload>>,
    log: string,
    at: { size: number; cut: number },
  ) => void,
): void {
  Deno.test(
    ...realServerCase(`real server via proxy: ${name}`),
    () =>
      scenario(
        { faults: faults(cut), count: 1, sizeOf: () => size, options: { workers: 1 } },
        (r) => {
          const log = transcript(r.proxy);
          assert.deepEqual(r.mismatches, []);
          assert.equal(r.outcome.exitCode, 0, log);
          const [f] = r.files;
          assert.equal(f.status, "uploaded", f.error);
          assert.equal(r.proxy.stats.fired.cutData, 1);
          assert.equal(f.attempts, 2);
          check(f, r, log, { size, cut });
        },
      ),
  );
}

cutFileTest(
  "data connection cut at an exact byte: REST+STOR from there",
  { size: 64 * MiB, cut: 10 * MiB + 12345 },
  (cut) => ({ cutDataAt: { byte: cut } }),
  (f, { outcome, proxy, tree, serverCommands }, log, { size, cut }) => {
    assert.equal(proxy.stats.cuts[0].offset, 0);
    // The client notices the cut either on the data connection (reset: it reconnects) or,
    // when it is slow to notice, by the 426 the proxy makes of vsftpd's 226 (it goes on with
    // the same connection). Both are fine; which one depends on timing.
    const { reconnects } = outcome.report.totals;
    assert.ok(reconnects <= 1, `reconnects ${reconnects}`);
    assert.equal(proxy.stats.sessions, 1 + reconnects);
    const { exchanges } = proxy.stats;
    // The first transfer: APPE, as a new file goes up on vsftpd (src/ftp/store.ts).
    assert.ok(exchanges.some((e) => /^(STOR|APPE) /.test(e.command) && e.reply.startsWith("426")));
    // The proxy hands vsftpd exactly `cut` bytes and a clean end, and holds a reconnect until
    // vsftpd has written them (its 226 also comes only after that): the SIZE the client asks
    // next is the cut byte, and the resume starts there. What the client had in flight past
    // the cut is lost with the reset and only shows up in bytesSent.
    const rest = exchanges.findIndex((e) => e.command === `REST ${cut}`);
    assert.ok(rest > 0 && exchanges[rest].reply.startsWith("350"), log);
    const sizeBefore = exchanges.slice(0, rest).findLast((e) =>
      e.session === exchanges[rest].session && starts("SIZE ")(e.command)
    );
    assert.equal(sizeBefore?.reply, `213 ${cut}`, log);
    assert.deepEqual(f.resumedFrom, [cut]);
    assert.ok(serverCommands.includes(`REST ${cut}`), "vsftpd got the REST");
    // The cut attempt's bytes count too: at least the whole file went on the wire.
    assert.ok(
      f.bytesSent >= size && f.bytesSent < 1.1 * size,
      `bytesSent ${f.bytesSent}`,
    );
    assert.equal(tree.length, 1, `temporary file renamed away: ${tree}`);
  },
);

/**
 * Twelve files (every third 2 MiB, the rest 50 KB) over two connections through the proxy:
 * all must end byte-exact and `uploaded`, no temporary file left; `check` sees the run.
 */
function twelveFilesTest(
  name: string,
  faults: ProxyFaults,
  check: (r: Awaited<ReturnType<typeof upload>>, log: string) => void,
): void {
  const sizeOf = (i: number) => (i % 3 === 0 ? 2 * MiB : 50_000);
  Deno.test(
    ...realServerCase(`real server via proxy: ${name}`),
    () =>
      scenario({ faults, count: 12, sizeOf, options: { workers: 2 } }, (r) => {
        const log = transcript(r.proxy);
        assert.deepEqual(r.mismatches, []);
        assert.equal(r.outcome.exitCode, 0, log);
        assert.equal(r.outcome.report.totals.uploaded, 12);
        assert.equal(r.tree.length, 12, `no temporary files left: ${r.tree}`);
        check(r, log);
      }),
  );
}

const AFTER_BYTES = 300_000;

twelveFilesTest(
  "control closed mid-transfer and after 226: reconnect, identical",
  {
    closeControlOnStore: { after: 2, times: 3, afterBytes: AFTER_BYTES },
    closeControlBetweenFiles: { after: 3, times: 2 },
  },
  ({ outcome, files, proxy }, log) => {
    const afterBytes = AFTER_BYTES;
    const { fired } = proxy.stats;
    assert.equal(fired.closeOnStore, 3, log);
    assert.equal(fired.closeBetweenFiles, 2, log);
    // Each close is followed by a new login of that worker (it always has work left:
    // the rest of the file or its verification), and nothing else logs in again.
    const reconnects = outcome.report.totals.reconnects;
    assert.ok(reconnects >= 5, `reconnects ${reconnects}\n${log}`);
    assert.equal(proxy.stats.sessions, 2 + reconnects);
    // A close during a transfer leaves the server exactly what had passed (the proxy
    // forwards that much, ends the data cleanly and holds the reconnect until vsftpd has
    // written it): the next attempt resumes from there (REST), or, when everything had
    // passed (a small file), only verifies and renames.
    const rests = new Set(
      proxy.stats.exchanges.filter((e) => e.reply.startsWith("350") && starts("REST ")(e.command))
        .map((e) => Number(e.command.slice(5))),
    );
    const ends = new Map<ReportFile, number[]>();
    for (const c of proxy.stats.closes.filter((c) => c.fault === "onStore")) {
      const f = fileOfTemp(files, c.command.slice("STOR ".length));
      assert.equal(c.passed, Math.min(afterBytes, f.size - c.offset!), JSON.stringify(c));
      const end = c.offset! + c.passed!;
      if (end < f.size) {
        assert.ok(rests.has(end), `REST ${end} for ${f.destination}\n${log}`);
        ends.set(f, [...ends.get(f) ?? [], end]);
      }
    }
    for (const f of files) {
      assert.equal(f.status, "uploaded", f.error);
      const hit = ends.get(f) ?? [];
      if (hit.length === 0) {
        assert.deepEqual(f.resumedFrom, [], f.destination);
        continue;
      }
      // Every resume is listed, also one that was itself interrupted.
      assert.deepEqual(f.resumedFrom, hit, f.destination);
    }
    for (const f of files.filter((f) => f.size < afterBytes)) {
      assert.equal(f.bytesSent, f.size, `${f.destination}: sent once, in full`);
    }
  },
);

twelveFilesTest(
  "control closed as STOR arrives and after renames: identical",
  {
    closeControlOnStore: { after: 3, times: 2 },
    closeControlBetweenFiles: { after: 2, times: 2, at: "RNTO" },
  },
  ({ outcome, files, proxy }, log) => {
    assert.equal(proxy.stats.fired.closeOnStore, 2, log);
    assert.equal(proxy.stats.fired.closeBetweenFiles, 2, log);
    const reconnects = outcome.report.totals.reconnects;
    assert.ok(reconnects >= 2, `reconnects ${reconnects}\n${log}`);
    assert.equal(proxy.stats.sessions, 2 + reconnects);
    // A STOR that never reached the server leaves nothing to resume: sent once, in full,
    // but for what went out before the 150 that never came (small files only).
    // Pipelining: each close can also take the replies of the rename pipelined in front of
    // the next STOR, or that STOR's start: then that one file is sent again (at most).
    const early = (f: ReportFile) =>
      proxy.stats.closes.filter((c) =>
        c.fault === "onStore" && fileOfTemp(files, c.command.slice("STOR ".length)) === f
      ).length * (f.size <= EARLY_DATA_BYTES ? f.size : 0);
    const again = files.filter((f) => f.bytesSent > f.size + early(f));
    assert.ok(again.length <= proxy.stats.closes.length, `${again.map((f) => f.destination)}`);
    for (const f of files) {
      assert.equal(f.status, "uploaded", f.error);
      if (!again.includes(f)) assert.deepEqual(f.resumedFrom, [], f.destination);
      const most = (again.includes(f) ? 2 * f.size : f.size) + early(f);
      assert.ok(f.bytesSent >= f.size && f.bytesSent <= most, `${f.destination} ${f.bytesSent}`);
    }
  },
);

cutFileTest(
  "REST refused: resume falls back to APPE, identical",
  { size: 64 * MiB, cut: 5 * MiB + 7 },
  (cut) => ({ cutDataAt: { byte: cut }, refuseRest: true }),
  (f, { proxy, serverCommands }, _log, { size, cut }) => {
    assert.deepEqual(f.resumedFrom, [cut]);
    assert.ok(f.bytesSent < 1.1 * size, `bytesSent ${f.bytesSent}`);
    const { exchanges } = proxy.stats;
    assert.ok(exchanges.some((e) => e.command === `REST ${cut}` && e.reply.startsWith("502")));
    assert.ok(exchanges.some((e) => e.command.startsWith("APPE ") && e.reply.startsWith("226")));
    assert.equal(serverCommands.filter(starts("REST")).length, 0, "REST never reached vsftpd");
    // The first transfer is an APPE too: a new file on vsftpd (src/ftp/store.ts).
    assert.equal(serverCommands.filter(starts("APPE ")).length, 2);
    assert.equal(serverCommands.filter(starts("STOR ")).length, 0);
  },
);

cutFileTest(
  "REST and APPE refused: full re-send, identical",
  { size: 16 * MiB, cut: 4 * MiB },
  (cut) => ({ cutDataAt: { byte: cut }, refuseRest: true, refuseAppe: true }),
  (f, { proxy, serverCommands }, _log, { size, cut }) => {
    assert.deepEqual(f.resumedFrom, []);
    assert.ok(f.bytesSent >= size + cut && f.bytesSent < 2 * size, `bytesSent ${f.bytesSent}`);
    const { exchanges } = proxy.stats;
    assert.ok(exchanges.some((e) => e.command === `REST ${cut}` && e.reply.startsWith("502")));
    assert.ok(exchanges.some((e) => e.command.startsWith("APPE ") && e.reply.startsWith("502")));
    assert.equal(serverCommands.filter((c) => /^(REST|APPE)\b/.test(c)).length, 0);
    assert.equal(serverCommands.filter(starts("STOR ")).length, 2);
  },
);

// ---------------------------------------------------------------- the proxy itself

/** Minimal FTP control client: whole replies (multi-line aware), pipelined commands. */
class Control {
  #buf = "";
  #dec = new TextDecoder();
  constructor(readonly conn: Deno.TcpConn) {}

  async reply(): Promise<string[]> {
    for (;;) {
      const lines = this.#buf.split("\r\n");
      const first = lines[0].match(/^(\d{3})([ -])/);
      if (first) {
        const end = first[2] === " "
          ? 0
          : lines.findIndex((l, i) => i > 0 && l.startsWith(`${first[1]} `));
        if (end >= 0 && end < lines.length - 1) {
          this.#buf = lines.slice(end + 1).join("\r\n");
          return lines.slice(0, end + 1);
        }
      }
      const chunk = new Uint8Array(4096);
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error(`control closed; buffered: ${this.#buf}`);
      this.#buf += this.#dec.decode(chunk.subarray(0, n), { stream: true });
    }
  }

  async send(...commands: string[]): Promise<void> {
    await this.conn.write(new TextEncoder().encode(commands.map((c) => c + "\r\n").join("")));
  }

  async ask(command: string): Promise<string> {
    await this.send(command);
    return (await this.reply())[0];
  }
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  return new Uint8Array(await new Response(conn.readable).arrayBuffer());
}

Deno.test(
  ...realServerCase(
    "fault proxy on vsftpd: PASV/EPSV rewritten, FEAT filtered, local replies in order",
  ),
  async () => {
    await withProxy({ refuseRest: true, refuseAppe: true }, async (server, proxy) => {
      const ctl = new Control(await Deno.connect({ hostname: proxy.host, port: proxy.port }));
      try {
        assert.match((await ctl.reply())[0], /^220 /);
        assert.match(await ctl.ask(`USER ${server.user}`), /^331 /);
        assert.match(await ctl.ask(`PASS ${server.password}`), /^230 /);
        assert.match(await ctl.ask("TYPE I"), /^200 /);

        // Multi-line FEAT: REST STREAM dropped while REST is refused, back when it is not.
        await ctl.send("FEAT");
        const feat = await ctl.reply();
        assert.match(feat[0], /^211-/);
        assert.equal(feat.at(-1), "211 End");
        assert.ok(feat.includes(" SIZE") && !feat.some((l) => /REST/.test(l)), feat.join("|"));
        proxy.faults.refuseRest = false;
        await ctl.send("FEAT");
        assert.ok((await ctl.reply()).includes(" REST STREAM"));
        proxy.faults.refuseRest = true;

        // Pipelined: the proxy's own 502 waits for the server's reply before it.
        await ctl.send("NOOP", "REST 100", "PWD", "APPE x", "NOOP");
        const order = [];
        for (let i = 0; i < 5; i++) order.push((await ctl.reply())[0].slice(0, 3));
        assert.deepEqual(order, ["200", "502", "257", "502", "200"]);

        // PASV: 127,0,0,1 and a proxy port (not vsftpd's); STOR through it lands on disk.
        const pasv = await ctl.ask("PASV");
        const m = pasv.match(/^227 .*\((127,0,0,1),(\d+),(\d+)\)/);
        assert.ok(m, pasv);
        const body = bytesFor(7, 300_000);
        const up = await Deno.connect({ hostname: "127.0.0.1", port: +m[2] * 256 + +m[3] });
        assert.match(await ctl.ask("STOR p.bin"), /^150 /);
        await up.write(body);
        up.close();
        assert.match((await ctl.reply())[0], /^226 /);
        assert.deepEqual(await Deno.readFile(`${server.root}/p.bin`), body);

        // EPSV: the same for a download (server -> client direction).
        const epsv = await ctl.ask("EPSV");
        const e = epsv.match(/^229 .*\(\|\|\|(\d+)\|\)/);
        assert.ok(e, epsv);
        const down = await Deno.connect({ hostname: "127.0.0.1", port: +e[1] });
        assert.match(await ctl.ask("RETR p.bin"), /^150 /);
        assert.deepEqual(await readAll(down), body);
        assert.match((await ctl.reply())[0], /^226 /);

        assert.match(await ctl.ask("QUIT"), /^221 /);
      } finally {
        ctl.conn.close();
      }
      assert.ok(proxy.stats.commands.includes("PASS ***"));
      assert.ok(!proxy.stats.commands.some((c) => c.includes(server.password)));
      assert.equal(proxy.stats.sessions, 1);
    });
  },
);

/**
 * The pipelined path's failure cases on vsftpd: the rename of a file goes out in front of
 * the next file's STOR, so a refusal or a drop there hits two files at once. Each must
 * end byte-exact, the refused file tried again on its own (not re-sent: its temporary
 * file is complete), the next one unharmed.
 */
function pipelineTest(
  name: string,
  faults: ProxyFaults,
  check: (r: Awaited<ReturnType<typeof upload>>, log: string) => void,
): void {
  Deno.test(
    ...realServerCase(`vsftpd, pipelined: ${name}`),
    () =>
      scenario({ faults, count: 6, sizeOf: () => 20_000, options: { workers: 1 } }, (r) => {
        const log = transcript(r.proxy);
        assert.deepEqual(r.mismatches, [], log);
        assert.equal(r.outcome.exitCode, 0, log);
        assert.equal(r.outcome.report.totals.uploaded, 6, log);
        assert.equal(r.tree.length, 6, `no temporary files left: ${r.tree}`);
        check(r, log);
      }),
  );
}

/** One file was tried twice; every file's bytes went out once. */
function assertOneRetriedNoneResent(files: ReportFile[], log: string): void {
  assert.equal(files.filter((f) => f.attempts > 1).length, 1, log);
  for (const f of files) assert.equal(f.bytesSent, f.size, `${f.destination}: sent once`);
}

/**
 * Where the next STOR is in `exchanges`: 0, or 1 behind the next file's own EPSV (sent on
 * its own when it did not trail the STOR before, as for the last file of a batch).
 */
function nextStor(exchanges: { command: string }[]): number {
  return exchanges[0]?.command === "EPSV" ? 1 : 0;
}

/** The exchange that `fault` answered, and the commands pipelined with it. */
function pipelinedExchange(proxy: FaultProxy, verb: string, reply: string) {
  const { exchanges } = proxy.stats;
  const i = exchanges.findIndex((e) => starts(`${verb} `)(e.command) && e.reply.startsWith(reply));
  assert.ok(i >= 0, `no ${verb} answered ${reply}`);
  return { i, exchanges };
}

pipelineTest(
  "a refused RNTO: that file is renamed on its own, the next goes on",
  {
    answerInstead: { verb: "RNTO", reply: "553 Could not rename file.", after: 2 },
  },
  ({ files, proxy, outcome }, log) => {
    const { i, exchanges } = pipelinedExchange(proxy, "RNTO", "553");
    // The STOR pipelined behind the refused RNTO (after the next file's EPSV, when that did
    // not trail the STOR before: src/ftp/trailing.ts) was taken and completed, same session.
    const next = i + 1 + nextStor(exchanges.slice(i + 1));
    assert.ok(starts("STOR ")(exchanges[next].command), log);
    assert.ok(exchanges[next].reply.startsWith("226"), log);
    assert.equal(proxy.stats.sessions, 1, log);
    assert.equal(outcome.report.totals.reconnects, 0);
    const refused = files.find((f) => f.attempts === 2);
    assert.ok(refused, log);
    assertOneRetriedNoneResent(files, log);
  },
);

pipelineTest(
  "a 4xx to RNFR mid-pipeline: the RNTO fails in step, nothing lost",
  {
    answerInstead: { verb: "RNFR", reply: "450 Busy, try later.", after: 3 },
  },
  ({ files, proxy }, log) => {
    const { i, exchanges } = pipelinedExchange(proxy, "RNFR", "450");
    // vsftpd answers the RNTO with no RNFR before it (503), then takes the STOR.
    assert.ok(starts("RNTO ")(exchanges[i + 1].command), log);
    assert.match(exchanges[i + 1].reply, /^5/, log);
    assert.ok(starts("STOR ")(exchanges[i + 2 + nextStor(exchanges.slice(i + 2))].command), log);
    assert.equal(proxy.stats.sessions, 1, log);
    assertOneRetriedNoneResent(files, log);
  },
);

pipelineTest(
  "connection lost between RNFR and RNTO: both files end byte-exact",
  { closeOn: { verb: "RNTO", after: 2 } },
  ({ files, proxy }, log) => {
    assert.equal(proxy.stats.fired.closeBetweenFiles, 1, log);
    const { i, exchanges } = pipelinedExchange(proxy, "RNFR", "350");
    assert.equal(exchanges[i].session, 1, log);
    assert.equal(proxy.stats.sessions, 2, log);
    // The pending rename's temporary file was complete: renamed after the reconnect, not
    // sent again. The file whose STOR was pipelined behind it lost at most its early data.
    for (const f of files) {
      assert.ok(f.bytesSent <= 2 * f.size, `${f.destination} ${f.bytesSent}`);
    }
    assert.ok(files.filter((f) => f.bytesSent > f.size).length <= 1, log);
  },
);
