// Label Studio's brush RLE: a bit stream (most significant bit first) of
//   32 bits word count | 5 bits word size - 1 | 4 x 4 bits length-class widths - 1 (3, 4, 8, 16)
// then blocks of: 1 bit repeat flag | 2 bits length class | count - 1 | one word (repeat) or
// count words (literal), padded with zero bits to a whole byte. A mask is width * height RGBA
// words; a pixel is painted when its alpha word is not zero.
const WORD_BITS = 8;
const LENGTH_BITS = [3, 4, 8, 16];
const MAX_BLOCK = 1 << 16;

class BitWriter {
  constructor() {
    this.bytes = [];
    this.acc = 0;
    this.bits = 0;
  }

  write(value, width) {
    for (let bit = width - 1; bit >= 0; bit -= 1) {
      this.acc = (this.acc << 1) | ((value >>> bit) & 1);
      this.bits += 1;
      if (this.bits === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.bits = 0;
      }
    }
  }

  finish() {
    if (this.bits) this.bytes.push((this.acc << (8 - this.bits)) & 0xff);
    return this.bytes;
  }
}

class BitReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }

  read(width) {
    let value = 0;
    for (let i = 0; i < width; i += 1) {
      const byte = this.bytes[this.pos >> 3];
      if (byte === undefined) throw new Error("the brush mask's RLE ends too early");
      value = value * 2 + ((byte >> (7 - (this.pos & 7))) & 1);
      this.pos += 1;
    }
    return value;
  }
}

const lengthClass = (countMinusOne) => LENGTH_BITS.findIndex((bits) => countMinusOne < 1 << bits);

function writeBlock(out, repeat, words) {
  const cls = lengthClass(words.count - 1);
  out.write(repeat ? 1 : 0, 1);
  out.write(cls, 2);
  out.write(words.count - 1, LENGTH_BITS[cls]);
  for (const word of words.values) out.write(word, WORD_BITS);
}

// The RLE byte list of an array of 8-bit words.
export function encodeWords(words) {
  const out = new BitWriter();
  out.write(words.length, 32);
  out.write(WORD_BITS - 1, 5);
  for (const bits of LENGTH_BITS) out.write(bits - 1, 4);
  let literals = [];
  const flush = () => {
    for (let i = 0; i < literals.length; i += MAX_BLOCK) {
      const part = literals.slice(i, i + MAX_BLOCK);
      writeBlock(out, false, { count: part.length, values: part });
    }
    literals = [];
  };
  let i = 0;
  while (i < words.length) {
    let j = i + 1;
    while (j < words.length && words[j] === words[i]) j += 1;
    let count = j - i;
    if (count === 1) literals.push(words[i]);
    else {
      flush();
      while (count > 0) {
        const part = Math.min(count, MAX_BLOCK);
        if (part === 1) {
          literals.push(words[i]);
          break;
        }
        writeBlock(out, true, { count: part, values: [words[i]] });
        count -= part;
      }
    }
    i = j;
  }
  flush();
  return out.finish();
}

// The words of an RLE byte list (a Uint8Array of the count its header states); with `expected`,
// a header that states another count is refused before anything is allocated.
export function decodeWords(rle, expected = null) {
  const input = new BitReader(rle);
  const count = input.read(32);
  if (expected !== null && count !== expected)
    throw new Error(`the brush mask holds ${count} values, not the image's ${expected}`);
  const wordBits = input.read(5) + 1;
  const lengths = [0, 1, 2, 3].map(() => input.read(4) + 1);
  const out = new Uint8Array(count);
  let i = 0;
  while (i < count) {
    const repeat = input.read(1);
    const end = Math.min(count, i + 1 + input.read(lengths[input.read(2)]));
    if (repeat) {
      out.fill(input.read(wordBits), i, end);
      i = end;
    } else {
      for (; i < end; i += 1) out[i] = input.read(wordBits);
    }
  }
  return out;
}

// The RLE of a mask (one byte per pixel, non-zero = painted): painted pixels are 255 in RGBA.
export function encodeMask(mask) {
  const words = new Uint8Array(mask.length * 4);
  for (let p = 0; p < mask.length; p += 1) if (mask[p]) words.fill(255, p * 4, p * 4 + 4);
  return encodeWords(words);
}

// The mask (1 = painted) of an RLE of a width x height image.
export function decodeMask(rle, width, height) {
  const words = decodeWords(rle, width * height * 4);
  const mask = new Uint8Array(width * height);
  const n = Math.min(mask.length, words.length >> 2);
  for (let p = 0; p < n; p += 1) mask[p] = words[p * 4 + 3] ? 1 : 0;
  return mask;
}
