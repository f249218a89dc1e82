/**
 * Test harness for pyftpdlib (`python3 -m pyftpdlib`, Debian's
 * python3-pyftpdlib): an anonymous, writable server on 127.0.0.1 over a
 * fresh temp folder. It differs from vsftpd where this client must learn
 * rather than assume: FEAT lists MLST (MLSD listings) and MFMT, and its MDTM
 * only reads.
 *
 * Missing python3 or pyftpdlib: `null` after one notice (a skip);
 * `FTPBATCH_REAL_SERVER=required` makes that an error.
 *
 * @module
 */

export interface PyftpdlibServer {
  kind: "pyftpdlib";
  port: number;
  /** Local folder that is the FTP root `/`. */
  root: string;
  close(): Promise<void>;
}

const PYTHON = "/usr/bin/python3";
const START_TIMEOUT_MS = 10_000;
let noticePrinted = false;

function available(): boolean {
  try {
    const out = new Deno.Command(PYTHON, {
      args: ["-c", "import pyftpdlib"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success;
  } catch {
    return false;
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts pyftpdlib, or returns null (skip) when it is not installed. */
export async function startPyftpdlib(): Promise<PyftpdlibServer | null> {
  if (!available()) {
    const why = `pyftpdlib not found (${PYTHON} -c "import pyftpdlib" failed)`;
    if (Deno.env.get("FTPBATCH_REAL_SERVER") === "required") {
      throw new Error(
        `FTPBATCH_REAL_SERVER=required but ${why}; apt-get install python3-pyftpdlib`,
      );
    }
    if (!noticePrinted) {
      noticePrinted = true;
      console.error(`${why}: pyftpdlib tests skipped (apt-get install python3-pyftpdlib)`);
    }
    return null;
  }
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-pyftpdlib-" });
  const port = freePort();
  const child = new Deno.Command(PYTHON, {
    args: ["-m", "pyftpdlib", "-i", "127.0.0.1", "-p", String(port), "-w", "-d", root],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const close = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await close();
        throw new Error(
          `pyftpdlib did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { kind: "pyftpdlib", port, root, close };
}
