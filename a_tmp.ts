import iconv from "iconv-lite";
console.log(typeof iconv.encode);
