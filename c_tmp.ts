import { createRequire } from "node:module";
const t=performance.now();
const require = createRequire(import.meta.url);
const iconv = require("iconv-lite");
console.log(typeof iconv.encode, iconv.encodingExists("cp1251"), performance.now()-t);
