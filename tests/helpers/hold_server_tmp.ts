import { startServer } from "./real_server.ts";
const s = await startServer({ kind: (Deno.args[0] ?? "vsftpd") as any });
Deno.writeTextFileSync(
  "/tmp/prof/server.json",
  JSON.stringify({
    port: s.port,
    user: s.user,
    password: s.password,
    root: s.root,
    log: s.logFile,
  }),
);
console.log("ready", s.port);
await new Promise(() => {});
