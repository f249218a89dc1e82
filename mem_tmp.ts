import { startRealServer } from "./tests/helpers/real_server.ts";
const server = (await startRealServer({}))!;
const cfgFile = Deno.args[0];
const c = JSON.parse(Deno.readTextFileSync(cfgFile));
c.server = { host: server.host, port: server.port, user: server.user, passwordEnv: "PW" };
c.options.workers = 4;
Deno.writeTextFileSync(cfgFile + ".real.json", JSON.stringify(c));
const out = await new Deno.Command("/usr/bin/time", {
  args: ["-v", Deno.execPath(), "run", "--v8-flags=--max-semi-space-size=2", "--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-sys=uid,gid", "main.ts", "upload", cfgFile + ".real.json", "--quiet", "--report", cfgFile + ".report.json"],
  env: { PW: server.password }, stdout: "piped", stderr: "piped",
}).output();
console.log(new TextDecoder().decode(out.stderr).split("\n").filter((l) => /Maximum resident|Elapsed|Exit status|files:|uploaded/.test(l)).join("\n"));
await server.close();
