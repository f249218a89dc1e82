/**
 * A small scripted FTP server for tests (plain FTP, passive mode, files in
 * memory): just enough of RFC 959 for ftpbatch's native transport, with hooks
 * that let a test answer a command the way a broken or hostile server would
 * (a 552 after the data, a 530 that echoes the password, a connection closed
 * between files). Listens on 127.0.0.1 only.
 *
 * @module
 */

export interface MiniServerHooks {
  /** The password that logs in; any other gets `loginRefused(password)` (default `530 Login incorrect.`). */
  password?: string;
  loginRefused?: (password: string) => string;
  /** The final reply to a STOR/APPE after all its data arrived (default `226 Transfer complete`; only 2xx stores). */
  afterStore?: (path: string, bytes: Uint8Array, store: number) => string;
  /** Close the control connection right after answering this command (e.g. `RNTO`), `times` times. */
  closeAfter?: { command: string; times: number };
}

export interface MiniServer {
  host: "127.0.0.1";
  port: number;
  /** Remote path -> content. */
  files: Map<string, Uint8Array>;
  /** Every command line (`PASS ***`), in order. */
  commands: string[];
  /** Control connections accepted; logins that worked. */
  stats: { sessions: number; logins: number };
  close(): Promise<void>;
}

const encoder = new TextEncoder();

export function startMiniServer(hooks: MiniServerHooks = {}): MiniServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const files = new Map<string, Uint8Array>();
  const commands: string[] = [];
  const stats = { sessions: 0, logins: 0 };
  const open = new Set<Deno.Conn | Deno.Listener>();
  const sessions: Promise<void>[] = [];
  let stores = 0;

  const accepting = (async () => {
    for await (const conn of listener) {
      stats.sessions++;
      open.add(conn);
      sessions.push(session(conn).catch(() => {}).finally(() => open.delete(conn)));
    }
  })().catch(() => {});

  async function session(conn: Deno.Conn): Promise<void> {
    const send = (text: string) => conn.write(encoder.encode(text + "\r\n"));
    let pending: Deno.Listener | undefined;
    let rest = 0;
    let renameFrom = "";
    await send("220 mini ftp");
    for await (const line of lines(conn)) {
      const [word, ...args] = line.split(" ");
      const cmd = word.toUpperCase();
      const arg = args.join(" ");
      commands.push(cmd === "PASS" ? "PASS ***" : line);
      let reply: string;
      switch (cmd) {
        case "USER":
          reply = "331 password please";
          break;
        case "PASS":
          if (hooks.password === undefined || arg === hooks.password) {
            stats.logins++;
            reply = "230 logged in";
          } else reply = hooks.loginRefused?.(arg) ?? "530 Login incorrect.";
          break;
        case "FEAT":
          reply = "211-Features\r\n SIZE\r\n REST STREAM\r\n211 End";
          break;
        case "EPSV": {
          pending?.close();
          pending = Deno.listen({ hostname: "127.0.0.1", port: 0 });
          reply = `229 Entering Extended Passive Mode (|||${(pending.addr as Deno.NetAddr).port}|)`;
          break;
        }
        case "REST":
          rest = Number(arg);
          reply = "350 restarting";
          break;
        case "STOR":
        case "APPE": {
          if (!pending) {
            reply = "425 use EPSV first";
            break;
          }
          const data = await pending.accept();
          pending.close();
          pending = undefined;
          await send("150 go ahead");
          const bytes = await readAll(data);
          data.close();
          const before = cmd === "APPE"
            ? files.get(arg) ?? new Uint8Array()
            : (files.get(arg) ?? new Uint8Array()).subarray(0, rest);
          rest = 0;
          reply = hooks.afterStore?.(arg, bytes, ++stores) ?? "226 Transfer complete";
          if (reply.startsWith("2")) files.set(arg, concat(before, bytes));
          break;
        }
        case "SIZE": {
          const f = files.get(arg);
          reply = f ? `213 ${f.length}` : "550 No such file";
          break;
        }
        case "RNFR":
          renameFrom = arg;
          reply = files.has(arg) ? "350 ready" : "550 No such file";
          break;
        case "RNTO":
          files.set(arg, files.get(renameFrom)!);
          files.delete(renameFrom);
          reply = "250 renamed";
          break;
        case "MKD":
          reply = `257 "${arg}" created`;
          break;
        case "CWD":
        case "DELE":
          reply = "250 ok";
          break;
        case "QUIT":
          await send("221 bye");
          conn.close();
          return;
        default:
          reply = "200 ok";
      }
      await send(reply);
      const close = hooks.closeAfter;
      if (close && close.times > 0 && close.command === cmd) {
        close.times--;
        conn.close();
        return;
      }
    }
  }

  return {
    host: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
    files,
    commands,
    stats,
    async close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await accepting;
      await Promise.all(sessions);
    },
  };
}

async function* lines(conn: Deno.Conn): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const buf = new Uint8Array(4096);
  let text = "";
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
    let i;
    while ((i = text.indexOf("\r\n")) >= 0) {
      yield text.slice(0, i);
      text = text.slice(i + 2);
    }
  }
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return concat(...parts);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
