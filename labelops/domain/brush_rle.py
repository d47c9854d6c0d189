"""Brush masks in Label Studio's RLE: the bit-packed run-length code of a ``brushlabels`` result.

A brush region stores its mask as ``value.rle``, a list of byte values (0..255). The bytes are a
bit stream, most significant bit first:

* a header: 32 bits for the number of words (``width * height * 4``, the RGBA values of the
  image), 5 bits for the word size minus one (8 bits here), then four 4-bit numbers: the bit widths
  minus one of the four length classes (3, 4, 8 and 16 bits by default);
* then blocks until every word is decoded. A block is one flag bit, a 2-bit length class, and a
  count ``n`` in that class's width. Flag 1: the next word repeats ``n + 1`` times. Flag 0: the
  next ``n + 1`` words are written one by one;
* zero bits pad the stream to a whole byte.

The mask of a region is the alpha channel (every fourth word); a pixel is painted when it is not
zero. We write painted pixels as 255 in all four channels (as Label Studio's converter does), so
long runs stay long.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelops.domain.errors import AnnotationError, InvalidInputError

WORD_BITS = 8
LENGTH_BITS = (3, 4, 8, 16)
MAX_MASK_PIXELS = 25_000_000
"""Largest image (width * height) a brush mask may cover: 5000 x 5000 pixels."""
MAX_RLE_BYTES = 1_000_000
"""Longest ``rle`` list accepted: a painted mask, even of the largest image, needs far fewer
(runs along each row cost a few bytes), and checking a list costs time in proportion to it."""
_HEADER_BITS = 32 + 5 + 4 * 4

Mask = npt.NDArray[np.uint8]


class BrushRleError(AnnotationError):
    """An ``rle`` list is not a brush mask of the stated image size (``field`` names it)."""


@dataclass(frozen=True)
class RleHeader:
    """The header of an RLE stream: the number of words, the word size and length classes."""

    words: int
    word_bits: int
    length_bits: tuple[int, int, int, int]


class _Bits:
    """Reads unsigned big-endian bit fields from bytes, one field at a time."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.size = len(data) * 8

    def read(self, width: int) -> int:
        end = self.pos + width
        if end > self.size:
            raise BrushRleError(
                f"rle ends after {len(self.data)} bytes, in the middle of a block",
                field="value.rle",
            )
        first, last = self.pos >> 3, (end + 7) >> 3
        chunk = int.from_bytes(self.data[first:last], "big")
        shift = last * 8 - end
        self.pos = end
        return (chunk >> shift) & ((1 << width) - 1)


def _as_bytes(rle: Sequence[int]) -> bytes:
    if len(rle) > MAX_RLE_BYTES:
        raise BrushRleError(
            f"rle has {len(rle)} values; at most {MAX_RLE_BYTES} are accepted", field="value.rle"
        )
    for position, value in enumerate(rle):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
            raise BrushRleError(
                f"rle[{position}] is {value!r}; rle values are bytes (integers 0..255)",
                field="value.rle",
            )
    return bytes(rle)


def read_header(rle: Sequence[int]) -> RleHeader:
    """Returns the header of an RLE stream.

    Raises:
        BrushRleError: The list is not bytes, too long, or shorter than a header.
    """
    bits = _Bits(_as_bytes(rle))
    if bits.size < _HEADER_BITS:
        raise BrushRleError(
            f"rle has {len(rle)} values, fewer than its 7-byte header", field="value.rle"
        )
    words = bits.read(32)
    word_bits = bits.read(5) + 1
    lengths = (bits.read(4) + 1, bits.read(4) + 1, bits.read(4) + 1, bits.read(4) + 1)
    return RleHeader(words, word_bits, lengths)


def _blocks(data: bytes, header: RleHeader) -> Iterator[tuple[int, int, int | list[int]]]:
    """Yields ``(start, end, value)`` for a run, or ``(start, end, [values])`` for literals."""
    size = len(data) * 8
    lengths, word_bits, words = header.length_bits, header.word_bits, header.words
    word_mask = (1 << word_bits) - 1
    pos = _HEADER_BITS
    done = 0

    def read(width: int) -> int:
        nonlocal pos
        end = pos + width
        if end > size:
            raise BrushRleError(
                f"rle ends after {len(data)} bytes, in the middle of a block", field="value.rle"
            )
        last = (end + 7) >> 3
        chunk = int.from_bytes(data[pos >> 3 : last], "big")
        pos = end
        return (chunk >> (last * 8 - end)) & ((1 << width) - 1)

    short = f"rle ends after {len(data)} bytes, in the middle of a block"
    while done < words:
        # One 64-bit window holds a block's flag, class, count and repeated word (<= 51 bits).
        first = pos >> 3
        window = int.from_bytes(data[first : first + 8].ljust(8, b"\0"), "big")
        top = 61 - (pos & 7)
        tag = (window >> top) & 7  # the repeat flag, then the 2-bit length class
        width = lengths[tag & 3]
        top -= width
        count = ((window >> top) & ((1 << width) - 1)) + 1
        pos += 3 + width
        end = done + count
        if end > words:
            raise BrushRleError(f"rle describes more than its {words} values", field="value.rle")
        if tag & 4:
            pos += word_bits
            if pos > size:
                raise BrushRleError(short, field="value.rle")
            yield done, end, (window >> (top - word_bits)) & word_mask
        elif pos > size:
            raise BrushRleError(short, field="value.rle")
        elif count * word_bits <= 4096:
            # Literal words are read in one piece, then split.
            bits = read(word_bits * count)
            shifts = range((count - 1) * word_bits, -1, -word_bits)
            yield done, end, [(bits >> shift) & word_mask for shift in shifts]
        else:
            yield done, end, [read(word_bits) for _ in range(count)]
        done = end


def _checked_header(rle: Sequence[int], width: int, height: int) -> tuple[bytes, RleHeader]:
    if width <= 0 or height <= 0 or width * height > MAX_MASK_PIXELS:
        raise BrushRleError(
            f"a brush mask needs an image of 1..{MAX_MASK_PIXELS} pixels, not {width} x {height}",
            field="original_width",
        )
    header = read_header(rle)
    if header.word_bits != WORD_BITS:
        raise BrushRleError(
            f"rle words have {header.word_bits} bits; brush masks use {WORD_BITS}",
            field="value.rle",
        )
    expected = width * height * 4
    if header.words != expected:
        raise BrushRleError(
            f"rle holds {header.words} values but a {width} x {height} RGBA image has {expected}",
            field="value.rle",
        )
    return bytes(rle), header


def check_rle(rle: Sequence[int], width: int, height: int) -> None:
    """Returns None when ``rle`` is a complete brush mask of a ``width`` x ``height`` image.

    Walks the whole stream without building the mask, so the cost follows the list's length.

    Raises:
        BrushRleError: The first problem: values that are not bytes, a list over the limit, an
            image size over the limit, a header that does not fit the size, a truncated stream.
    """
    data, header = _checked_header(rle, width, height)
    for _ in _blocks(data, header):
        pass


def decode_rgba(rle: Sequence[int], width: int, height: int) -> Mask:
    """Returns the RGBA values of a brush mask, shaped ``(height, width, 4)``.

    Raises:
        BrushRleError: As :func:`check_rle`.
    """
    data, header = _checked_header(rle, width, height)
    out = np.zeros(header.words, dtype=np.uint8)
    for start, end, value in _blocks(data, header):
        out[start:end] = value
    return out.reshape(height, width, 4)


def decode_mask(rle: Sequence[int], width: int, height: int) -> Mask:
    """Returns the mask of a brush region (its alpha channel), shaped ``(height, width)``.

    A pixel is painted when its value is not zero; Label Studio's own masks hold 255 there.

    Raises:
        BrushRleError: As :func:`check_rle`.
    """
    return np.ascontiguousarray(decode_rgba(rle, width, height)[:, :, 3])


class _BitWriter:
    def __init__(self) -> None:
        self.value = 0
        self.bits = 0
        self.out = bytearray()

    def write(self, number: int, width: int) -> None:
        self.value = (self.value << width) | number
        self.bits += width
        while self.bits >= 8:
            self.bits -= 8
            self.out.append((self.value >> self.bits) & 0xFF)
        self.value &= (1 << self.bits) - 1

    def finish(self) -> list[int]:
        if self.bits:
            self.out.append((self.value << (8 - self.bits)) & 0xFF)
            self.value = 0
            self.bits = 0
        return list(self.out)


def _length_class(count_minus_one: int) -> int:
    for index, bits in enumerate(LENGTH_BITS):
        if count_minus_one < 1 << bits:
            return index
    raise AssertionError(count_minus_one)  # callers split blocks at 2**16


def encode_words(words: npt.NDArray[np.uint8]) -> list[int]:
    """Returns the RLE byte list of a flat array of 8-bit words (RGBA values).

    Runs of two or more equal words become repeat blocks, everything else literal blocks; a
    block holds at most 65536 words.
    """
    flat = np.asarray(words, dtype=np.uint8).ravel()
    writer = _BitWriter()
    writer.write(len(flat), 32)
    writer.write(WORD_BITS - 1, 5)
    for bits in LENGTH_BITS:
        writer.write(bits - 1, 4)
    limit = 1 << LENGTH_BITS[-1]
    if len(flat) == 0:
        return writer.finish()
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(flat)]))
    literals: list[int] = []

    def flush() -> None:
        for offset in range(0, len(literals), limit):
            part = literals[offset : offset + limit]
            cls = _length_class(len(part) - 1)
            writer.write(0, 1)
            writer.write(cls, 2)
            writer.write(len(part) - 1, LENGTH_BITS[cls])
            for word in part:
                writer.write(word, WORD_BITS)
        literals.clear()

    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        value = int(flat[start])
        count = end - start
        if count == 1:
            literals.append(value)
            continue
        flush()
        while count > 0:
            part = min(count, limit)
            if part == 1:
                literals.append(value)
                break
            cls = _length_class(part - 1)
            writer.write(1, 1)
            writer.write(cls, 2)
            writer.write(part - 1, LENGTH_BITS[cls])
            writer.write(value, WORD_BITS)
            count -= part
    flush()
    return writer.finish()


def encode_mask(mask: npt.NDArray[np.generic]) -> list[int]:
    """Returns the RLE list of a 2-D mask: painted (non-zero) pixels as 255 in all four channels."""
    grid = np.asarray(mask)
    if grid.ndim != 2:
        raise InvalidInputError(f"a mask is 2-D, not {grid.ndim}-D")
    painted = np.where(grid != 0, 255, 0).astype(np.uint8)
    return encode_words(np.repeat(painted.ravel(), 4))
