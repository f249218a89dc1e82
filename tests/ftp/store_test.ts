/**
 * The resume protocol (`store.ts`, through `Session.upload`) driven by a fake
 * transport (`fake_transport.ts`): each server quirk's branch, by what the
 * session sent, what the server ended up with, and what it learned.
 */

import assert from "node:assert/strict";
import {
  FTPError,
  LocalFileError,
  PartialUploadError,
  ResumeRefused,
  TransferFailed,
} from "../../src/ftp/errors.ts";
import { EARLY_DATA_BYTES } from "../../src/ftp/transport.ts";
import { FakeTransport, reply } from "./fake_transport.ts";
import { put, withFile } from "./local_file.ts";

Deno.test("pure-ftpd (500 to a command during a transfer): SIZE only after the transfer", async () => {
  await withFile(1000, async (path, bytes) => {
    const { fake, session } = FakeTransport.session();
    let askedDuringTransfer: boolean | undefined;
    fake.onTransfer = () => {
      askedDuringTransfer = fake.log.some((l) => l.startsWith("(next follows"));
      return undefined;
    };
    const out = await session.upload({
      localPath: path,
      remotePath: "/a.bin",
      offset: 0,
      method: "rest",
      size: 1000,
      nextFollows: () => true,
    });
    assert.deepEqual(out, { offset: 0, bytesSent: 1000, sizeAfter: { size: 1000 } });
    assert.equal(askedDuringTransfer, false, "whether a file follows is asked after the data");
    assert.deepEqual(fake.duringTransfer, []);
    assert.deepEqual(fake.log, ["open data", "STOR /a.bin", "(next follows: true)", "SIZE /a.bin"]);
    assert.deepEqual(fake.files.get("/a.bin"), bytes);
  });
});

Deno.test("REST refused (502): ResumeRefused before any STOR; then APPE continues the file", async () => {
  await withFile(3000, async (path, bytes) => {
    const { fake, session } = FakeTransport.session();
    fake.on.REST = () => reply("502 REST not implemented");
    fake.files.set("/r.bin", bytes.slice(0, 1200));
    const options = { localPath: path, remotePath: "/r.bin", offset: 1200, size: 3000 };
    await assert.rejects(
      session.upload({ ...options, method: "rest" }),
      (e) => e instanceof ResumeRefused && /REST 1200: 502/.test(e.message),
    );
    assert.equal(session.abilities.restStore, false);
    assert.deepEqual(fake.log, ["open data", "REST 1200", "abandon data"]);
    assert.deepEqual(fake.transfers, []);

    const out = await session.upload({ ...options, method: "appe" });
    assert.deepEqual(out, { offset: 1200, bytesSent: 1800, sizeAfter: { size: 3000 } });
    assert.equal(session.abilities.append, true);
    assert.deepEqual(fake.log.slice(3), [
      "open data",
      "APPE /r.bin",
      "(next follows: false)",
      "SIZE /r.bin",
    ]);
    assert.deepEqual(fake.files.get("/r.bin"), bytes);
  });
});

Deno.test("ProFTPD AllowStoreRestart off: 350 to REST, 451 to STOR -> ResumeRefused, REST off", async () => {
  await withFile(2000, async (path) => {
    const { fake, session } = FakeTransport.session();
    fake.onTransfer = () => {
      throw new FTPError(reply("451 Append/Restart not permitted, try again"));
    };
    await assert.rejects(
      put(session, path, "/p.bin", 2000, { offset: 500, method: "rest" }),
      (e) => e instanceof ResumeRefused && /STOR after REST 500: 451/.test(e.message),
    );
    assert.equal(session.abilities.restStore, false);
  });
});

Deno.test("a 552 (quota) to a resumed STOR is no refusal of the method: REST stays on", async () => {
  await withFile(2000, async (path) => {
    const { fake, session } = FakeTransport.session();
    fake.onTransfer = () => {
      throw new FTPError(reply("552 Disk quota exceeded"));
    };
    await assert.rejects(
      put(session, path, "/p.bin", 2000, { offset: 500, method: "rest" }),
      (e) => e instanceof PartialUploadError && e.code === 552 && e.bytesSent === 0,
    );
    assert.equal(session.abilities.restStore, true);
  });
});

Deno.test("ProFTPD HiddenStores leftover (550 Temporary hidden file): deleted once, sent again", async () => {
  await withFile(800, async (path, bytes) => {
    const { fake, session } = FakeTransport.session();
    fake.files.set("/d/.in.f.bin.", new Uint8Array([1, 2, 3]));
    let refusals = 0;
    fake.onTransfer = () => {
      if (refusals++ > 0) return undefined;
      throw new FTPError(
        reply("550 f.bin: Temporary hidden file /d/.in.f.bin. already exists"),
      );
    };
    await put(session, path, "/d/f.bin", 800);
    assert.deepEqual(fake.log.slice(0, 5), [
      "open data",
      "STOR /d/f.bin",
      "DELE /d/.in.f.bin.",
      "open data",
      "STOR /d/f.bin",
    ]);
    assert.equal(fake.files.has("/d/.in.f.bin."), false);
    assert.deepEqual(fake.files.get("/d/f.bin"), bytes);
  });
});

Deno.test("a 550 naming another hidden file deletes nothing", async () => {
  await withFile(800, async (path) => {
    const { fake, session } = FakeTransport.session();
    fake.files.set("/d/.in.other.bin.", new Uint8Array([1]));
    fake.onTransfer = () => {
      throw new FTPError(reply("550 Temporary hidden file /d/.in.other.bin. already exists"));
    };
    await assert.rejects(
      put(session, path, "/d/f.bin", 800),
      (e) => e instanceof PartialUploadError && e.code === 550,
    );
    assert.ok(!fake.log.some((l) => l.startsWith("DELE")));
    assert.ok(fake.files.has("/d/.in.other.bin."));
  });
});

Deno.test("early data: only for a small file, and off for good once a transfer sent so is refused", async () => {
  await withFile(EARLY_DATA_BYTES + 1, async (big) => {
    await withFile(100, async (small) => {
      const { fake, session } = FakeTransport.session();
      const send = (localPath: string, size: number) => put(session, localPath, "/e.bin", size);
      await send(big, EARLY_DATA_BYTES + 1);
      await send(small, 100);
      assert.deepEqual(fake.transfers.map((t) => t.early), [false, true]);
      fake.onTransfer = () => {
        throw new TransferFailed(new FTPError(reply("426 data before 150 not taken")), 100);
      };
      await assert.rejects(send(small, 100), PartialUploadError);
      assert.equal(session.abilities.earlyData, false);
      fake.onTransfer = undefined;
      await send(small, 100);
      assert.deepEqual(fake.transfers.map((t) => t.early), [false, true, true, false]);
    });
  });
});

Deno.test("a transport without early data (basic-ftp) is never asked for it", async () => {
  await withFile(100, async (path) => {
    const { fake, session } = FakeTransport.session(undefined, false);
    await put(session, path, "/e.bin", 100);
    assert.equal(fake.transfers[0].early, false);
  });
});

Deno.test("a local file that changed size during the run: LocalFileError, not uploaded", async () => {
  await withFile(1000, async (path) => {
    const { session } = FakeTransport.session();
    await assert.rejects(
      put(session, path, "/c.bin", 900),
      (e) => e instanceof LocalFileError && /changed during the run/.test(e.message),
    );
  });
});
