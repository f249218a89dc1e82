/**
 * Active mode for the FTPS transport: the listener on node:net, since TLS on
 * the data connection (node:tls) needs a node socket. What is announced and
 * who may connect is `active.ts`'s; loaded only with basic-ftp.
 *
 * @module
 */

import { createServer, type Server, type Socket } from "node:net";
import type { ActiveMode } from "./active.ts";
import type { Reply } from "./reply.ts";

/** The server's data connection to come (a plain socket), and a way to stop waiting. */
export interface NodeActiveData {
  connecting: Promise<Socket>;
  close(): void;
}

/** Listens, announces (EPRT/PORT), and waits for the server's connection. */
export async function openActiveNode(
  mode: ActiveMode,
  command: (line: string) => Promise<Reply>,
): Promise<NodeActiveData> {
  const server = await listen(mode);
  try {
    const address = server.address();
    await mode.announce(command, typeof address === "object" && address ? address.port : 0);
  } catch (e) {
    server.close();
    throw e;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settle: ((e: Error) => void) | undefined;
  const close = () => {
    clearTimeout(timer);
    server.close();
    settle?.(new Error("data connection abandoned"));
  };
  const connecting = new Promise<Socket>((resolve, reject) => {
    settle = reject;
    timer = setTimeout(() => {
      close();
      reject(new Error("Timeout (data socket): the server did not connect (active mode)"));
    }, mode.timeoutMs);
    server.on("connection", (socket: Socket) => {
      // Only the server itself; anyone else is turned away (see active.ts).
      if (plainAddress(socket.remoteAddress) !== mode.serverAddress) {
        socket.destroy();
        return;
      }
      settle = undefined;
      clearTimeout(timer);
      server.close();
      resolve(socket);
    });
  });
  connecting.catch(() => {});
  return { connecting, close };
}

/** A listener on the local address, on a port of the configured range if there is one. */
async function listen(mode: ActiveMode): Promise<Server> {
  const [first, last] = mode.settings.ports ?? [0, 0];
  const count = last - first + 1;
  const start = Math.floor(Math.random() * count);
  for (let i = 0;; i++) {
    const port = first === 0 ? 0 : first + ((start + i) % count);
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host: mode.localAddress, port }, () => resolve());
      });
      return server;
    } catch (e) {
      server.close();
      const inUse = (e as { code?: string }).code === "EADDRINUSE";
      if (!inUse || first === 0 || i + 1 >= count) throw e;
    }
  }
}

/** `::ffff:127.0.0.1` as `127.0.0.1`: node may name an IPv4 peer in IPv6 form. */
function plainAddress(address: string | undefined): string | undefined {
  return address?.startsWith("::ffff:") ? address.slice(7) : address;
}
