import assert from "node:assert/strict";
import { formatFtpTime, mdtmFrom, parseFtpTime, utcTime } from "../../src/ftp/ftp_time.ts";

Deno.test("formatFtpTime writes UTC to the second, the fraction dropped", () => {
  assert.equal(formatFtpTime(Date.UTC(2026, 10, 26, 15, 39, 7, 999)), "20261126153907");
  assert.equal(formatFtpTime(Date.UTC(2001, 0, 2, 3, 4, 5)), "20010102030405");
  // Before 1970: floor, not truncation toward zero, keeps the second right.
  assert.equal(formatFtpTime(Date.UTC(1969, 11, 31, 23, 59, 59, 500)), "19691231235959");
});

Deno.test("parseFtpTime reads time-val with and without a fraction, and round-trips", () => {
  assert.equal(parseFtpTime("20261126153907"), Date.UTC(2026, 10, 26, 15, 39, 7));
  assert.equal(parseFtpTime("20261126153907.5"), Date.UTC(2026, 10, 26, 15, 39, 7, 500));
  assert.equal(parseFtpTime("20261126153907.123456"), Date.UTC(2026, 10, 26, 15, 39, 7, 123));
  assert.equal(parseFtpTime(" 20240229000000 "), Date.UTC(2024, 1, 29));
  const t = Date.UTC(2030, 5, 15, 1, 2, 3);
  assert.equal(parseFtpTime(formatFtpTime(t)), t);
  // Years below 100 are years, not 19xx.
  assert.equal(new Date(parseFtpTime("00250101000000")!).getUTCFullYear(), 25);
});

Deno.test("parseFtpTime refuses what is not a valid time-val", () => {
  for (
    const bad of [
      "",
      "2026112615390", // 13 digits
      "202611261539071", // 15 digits
      "20261326153907", // month 13
      "20261100153907", // day 0
      "20270229120000", // 29 February of a common year
      "20260431120000", // 31 April
      "20261126243907", // hour 24
      "20261126156007", // minute 60
      "20261126153907.", // fraction without digits
      "2026-11-26 15:39",
      "File modification time set.",
    ]
  ) {
    assert.equal(parseFtpTime(bad), undefined, bad);
  }
});

Deno.test("utcTime: a leap second rolls over into the next year", () => {
  assert.equal(utcTime(2016, 12, 31, 23, 59, 60), Date.UTC(2017, 0, 1));
  assert.equal(utcTime(2026, 2, 29), undefined);
  assert.equal(utcTime(2000, 2, 29), Date.UTC(2000, 1, 29));
  assert.equal(utcTime(1900, 2, 29), undefined);
});

Deno.test("mdtmFrom reads 213 replies only", () => {
  assert.equal(mdtmFrom({ code: 213, message: "213 20250101120000" }), Date.UTC(2025, 0, 1, 12));
  assert.equal(
    mdtmFrom({ code: 550, message: "550 Could not get file modification time." }),
    undefined,
  );
  assert.equal(mdtmFrom({ code: 213, message: "213 File modification time set." }), undefined);
});
