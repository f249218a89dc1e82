/**
 * A set of strings that keeps 8 bytes per member instead of the string: two
 * 32-bit hashes of it, in an open-addressing table that doubles when half
 * full, plus a 32-bit tag per member (which report listed it). Used by
 * `report merge` to find a destination listed twice among a million without
 * holding a million strings. Two different strings are taken for one only
 * when both hashes agree (about 1 in 2^64 per pair: a chance far below one
 * in a million for a billion files).
 *
 * @module
 */

export class DestinationSet {
  #hi: Uint32Array;
  #lo: Uint32Array;
  #tag: Uint32Array;
  #size = 0;

  constructor(capacity = 1024) {
    this.#hi = new Uint32Array(capacity);
    this.#lo = new Uint32Array(capacity);
    this.#tag = new Uint32Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds `text` with `tag`; returns the tag it already had, or undefined when it was new. */
  add(text: string, tag: number): number | undefined {
    if ((this.#size + 1) * 2 > this.#hi.length) this.#grow();
    const [hi, lo] = hashes(text);
    const at = this.#find(hi, lo);
    if (this.#tag[at] !== 0) return this.#tag[at] - 1;
    this.#hi[at] = hi;
    this.#lo[at] = lo;
    this.#tag[at] = tag + 1; // 0 marks an empty slot
    this.#size++;
    return undefined;
  }

  #find(hi: number, lo: number): number {
    const mask = this.#hi.length - 1;
    for (let at = (hi ^ lo) & mask;; at = (at + 1) & mask) {
      if (this.#tag[at] === 0 || (this.#hi[at] === hi && this.#lo[at] === lo)) return at;
    }
  }

  #grow(): void {
    const [hi, lo, tag] = [this.#hi, this.#lo, this.#tag];
    const capacity = hi.length * 2;
    this.#hi = new Uint32Array(capacity);
    this.#lo = new Uint32Array(capacity);
    this.#tag = new Uint32Array(capacity);
    for (let k = 0; k < hi.length; k++) {
      if (tag[k] === 0) continue;
      const at = this.#find(hi[k], lo[k]);
      this.#hi[at] = hi[k];
      this.#lo[at] = lo[k];
      this.#tag[at] = tag[k];
    }
  }
}

/** FNV-1a and a murmur-style mix over the UTF-16 code units, independent enough for a pair. */
function hashes(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  b = Math.imul(b ^ (b >>> 15), 0x27d4eb2d);
  return [a >>> 0, (b ^ (b >>> 16)) >>> 0];
}
