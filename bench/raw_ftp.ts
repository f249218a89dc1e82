/**
 * A minimal FTP client on `Deno.connect`, for the benchmark's floors: the
 * fewest commands a correct upload needs (PASV, STOR, data, 226) with no
 * verification, no temporary names and no worker plumbing. Not a product
 * client: no TLS, no retries, no resume.
 *
 * @module
 */

const CRLF = new Uint8Array([13, 10]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One FTP reply: code and the full text (all lines). */
export interface Reply {
  code: number;
  text: string;
}

export class FtpReplyError extends Error {
  constructor(command: string, readonly reply: Reply) {
    super(`${command.startsWith("PASS ") ? "PASS ***" : command}: ${reply.text}`);
    this.name = "FtpReplyError";
  }
}

/** A logged-in control connection; one command at a time. */
export class RawFtp {
  #conn: Deno.TcpConn;
  #buf: Uint8Array = new Uint8Array(0);
  #host: string;

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

  expect(reply: Reply, code: number, what: string): Reply {
    if (reply.code !== code) throw new FtpReplyError(what, reply);
    return reply;
  }

  /** Sends one command line and returns its reply. */
  async send(line: string): Promise<Reply> {
    await writeAll(this.#conn, concat(encoder.encode(line), CRLF));
    return await this.reply();
  }

  /** Reads one (possibly multi-line) reply. */
  async reply(): Promise<Reply> {
    const lines: string[] = [];
    while (true) {
      const line = await this.#line();
      lines.push(line);
      // First line "ddd-" opens a multi-line reply that ends with "ddd ".
      if (/^\d{3} /.test(line) && (lines.length === 1 || line.startsWith(lines[0].slice(0, 3)))) {
        return { code: Number(line.slice(0, 3)), text: lines.join("\n") };
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
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("control connection closed by the server");
      this.#buf = concat(this.#buf, chunk.subarray(0, n));
    }
  }

  /** Opens a passive data connection (PASV; the address is the control host). */
  async #pasv(): Promise<Deno.TcpConn> {
    const r = this.expect(await this.send("PASV"), 227, "PASV");
    const m = r.text.match(/(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/);
    if (!m) throw new Error(`unreadable PASV reply: ${r.text}`);
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
      await writeAll(this.#conn, concat(encoder.encode(`STOR ${remote}`), CRLF));
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

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function indexOfCrlf(buf: Uint8Array): number {
  for (let i = 0; i + 1 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10) return i;
  }
  return -1;
}
