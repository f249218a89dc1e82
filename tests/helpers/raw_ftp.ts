/**
 * A bare FTP control connection on `Deno.connect`, with none of the product's
 * code in the way: for tests that speak to a real server command by command,
 * and for the benchmark's floors (the fewest commands a correct upload needs:
 * PASV, STOR, data, 226; no verification, no temporary names, no workers).
 * Not a product client: no TLS, no retries, no resume, one command at a time.
 *
 * @module
 */

import { parseFeatures, type Reply } from "../../src/ftp/reply.ts";
import { concat, writeAll } from "./stream_bytes.ts";

export type { Reply };

const CRLF = new Uint8Array([13, 10]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** No reply or data for this long: the server is stuck, the connection is closed. */
const TIMEOUT_MS = 30_000;

export class FtpReplyError extends Error {
  constructor(command: string, readonly reply: Reply) {
    super(`${command.startsWith("PASS ") ? "PASS ***" : command}: ${reply.message}`);
    this.name = "FtpReplyError";
  }
}

/** A logged-in control connection; one command at a time. */
export class RawFtp {
  #conn: Deno.TcpConn;
  #buf: Uint8Array = new Uint8Array(0);
  #host: string;
  /** FEAT's answer (feature name -> the rest of its line), once {@linkcode loadFeatures} ran. */
  features = new Map<string, string>();

  private constructor(conn: Deno.TcpConn, host: string) {
    this.#conn = conn;
    this.#host = host;
  }

  /** Connects, logs in, switches to binary and UTF-8. */
  static async open(host: string, port: number, user: string, password: string): Promise<RawFtp> {
    const conn = await Deno.connect({ hostname: host, port });
    conn.setNoDelay(true);
    const ftp = new RawFtp(conn, host);
    try {
      await ftp.expect(await ftp.reply(), 220, "greeting");
      const u = await ftp.send(`USER ${user}`);
      if (u.code === 331) await ftp.expect(await ftp.send(`PASS ${password}`), 230, "PASS");
      else await ftp.expect(u, 230, "USER");
      await ftp.send("OPTS UTF8 ON"); // vsftpd stores the bytes as sent either way
      await ftp.expect(await ftp.send("TYPE I"), 200, "TYPE I");
      return ftp;
    } catch (e) {
      ftp.close();
      throw e;
    }
  }

  /** Asks FEAT and keeps the answer in {@linkcode features}. */
  async loadFeatures(): Promise<this> {
    this.features = parseFeatures(await this.send("FEAT"));
    return this;
  }

  expect(reply: Reply, code: number, what: string): Reply {
    if (reply.code !== code) throw new FtpReplyError(what, reply);
    return reply;
  }

  /** Sends one command line and returns its reply (bound: it can be passed on alone). */
  send = async (line: string): Promise<Reply> => {
    await writeAll(this.#conn, concat([encoder.encode(line), CRLF]));
    return await this.reply();
  };

  /** Reads one (possibly multi-line) reply. */
  async reply(): Promise<Reply> {
    const lines: string[] = [];
    while (true) {
      const line = await this.#line();
      lines.push(line);
      // First line "ddd-" opens a multi-line reply that ends with "ddd ".
      if (/^\d{3} /.test(line) && (lines.length === 1 || line.startsWith(lines[0].slice(0, 3)))) {
        return { code: Number(line.slice(0, 3)), message: lines.join("\n") };
      }
      if (lines.length === 1 && !/^\d{3}-/.test(line)) {
        throw new Error(`unreadable FTP reply: ${line}`);
      }
    }
  }

  async #line(): Promise<string> {
    while (true) {
      const at = indexOfCrlf(this.#buf);
      if (at >= 0) {
        const line = decoder.decode(this.#buf.subarray(0, at));
        this.#buf = this.#buf.slice(at + 2);
        return line;
      }
      const chunk = new Uint8Array(16384);
      const n = await this.#timed(this.#conn.read(chunk));
      if (n === null) throw new Error("control connection closed by the server");
      this.#buf = concat([this.#buf, chunk.subarray(0, n)]);
    }
  }

  /** `p`, or the connection closed and an error after {@linkcode TIMEOUT_MS}. */
  async #timed<T>(p: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.close();
        reject(new Error(`no answer from the server in ${TIMEOUT_MS / 1000} s`));
      }, TIMEOUT_MS);
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Opens a passive data connection (PASV; the address is the control host). */
  async #pasv(): Promise<Deno.TcpConn> {
    const r = this.expect(await this.send("PASV"), 227, "PASV");
    const m = r.message.match(/(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/);
    if (!m) throw new Error(`unreadable PASV reply: ${r.message}`);
    const port = Number(m[5]) * 256 + Number(m[6]);
    const data = await Deno.connect({ hostname: this.#host, port });
    data.setNoDelay(true);
    return data;
  }

  /**
   * STOR `remote` with `source` as content: bytes in memory, or a local file
   * path (read whole when small, streamed when large). Resolves after the
   * server's 226. The data goes out right after the STOR line, without
   * waiting for the 150 (the server reads it once it accepts the data
   * connection): one wait per file fewer, as a pipelining client does.
   */
  async stor(remote: string, source: Uint8Array | string): Promise<void> {
    const data = await this.#pasv();
    let dataOpen = true;
    try {
      await writeAll(this.#conn, concat([encoder.encode(`STOR ${remote}`), CRLF]));
      const preliminary = this.reply();
      preliminary.catch(() => {}); // awaited below; a failure surfaces there
      if (typeof source !== "string") {
        await writeAll(data, source);
      } else if ((await Deno.stat(source)).size <= 1 << 20) {
        await writeAll(data, await Deno.readFile(source));
      } else {
        using file = await Deno.open(source, { read: true });
        const chunk = new Uint8Array(1 << 20);
        while (true) {
          const n = await file.read(chunk);
          if (n === null) break;
          await writeAll(data, chunk.subarray(0, n));
        }
      }
      dataOpen = false;
      data.close();
      this.expect(await preliminary, 150, `STOR ${remote}`);
      this.expect(await this.reply(), 226, `STOR ${remote} (end)`);
    } finally {
      if (dataOpen) data.close();
    }
  }

  /** `MLSD path` or `LIST path`: the listing's bytes and the final reply. */
  async list(verb: "MLSD" | "LIST", path: string): Promise<{ bytes: Uint8Array; reply: Reply }> {
    const data = await this.#pasv();
    try {
      const opened = await this.send(`${verb} ${path}`);
      if (opened.code !== 150 && opened.code !== 125) throw new FtpReplyError(verb, opened);
      const bytes = new Uint8Array(await this.#timed(new Response(data.readable).arrayBuffer()));
      return { bytes, reply: await this.reply() };
    } catch (e) {
      try {
        data.close();
      } catch {
        // the listing closed it
      }
      throw e;
    }
  }

  /** MKD; "exists" (550) is fine. */
  async mkd(dir: string): Promise<void> {
    const r = await this.send(`MKD ${dir}`);
    if (r.code !== 257 && r.code !== 550) throw new FtpReplyError(`MKD ${dir}`, r);
  }

  async quit(): Promise<void> {
    try {
      await this.send("QUIT");
    } catch {
      // closing anyway
    }
    this.close();
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** A raw connection to a server on 127.0.0.1, logged in, with FEAT read. */
export async function rawLogin(
  port: number,
  user = "anonymous",
  password = "anonymous@",
): Promise<RawFtp> {
  const ftp = await RawFtp.open("127.0.0.1", port, user, password);
  try {
    return await ftp.loadFeatures();
  } catch (e) {
    ftp.close();
    throw e;
  }
}

function indexOfCrlf(buf: Uint8Array): number {
  for (let i = 0; i + 1 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10) return i;
  }
  return -1;
}
