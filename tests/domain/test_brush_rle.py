"""Label Studio's brush RLE: known bit streams, round trips, and refusal of what is not a mask."""

from typing import Any

import numpy as np
import pytest

from labelops.domain.brush_rle import (
    MAX_MASK_PIXELS,
    MAX_RLE_BYTES,
    BrushRleError,
    check_rle,
    decode_mask,
    decode_rgba,
    encode_mask,
    encode_words,
    read_header,
)
from labelops.domain.errors import AnnotationError
from labelops.domain.label_config import parse_label_config, validate_result

# 32 bits word count, 5 bits word size - 1 (7), then the length classes 3, 4, 8, 16 minus one.
_HEADER_OF_8 = "0" * 28 + "1000" + "00111" + "0010" + "0011" + "0111" + "1111"


def _bits_to_bytes(bits: str) -> list[int]:
    bits += "0" * (-len(bits) % 8)
    return [int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)]


def test_header_is_label_studios_default():
    rle = encode_words(np.zeros(8, dtype=np.uint8))
    header = read_header(rle)
    assert (header.words, header.word_bits, header.length_bits) == (8, 8, (3, 4, 8, 16))


def test_two_pixel_mask_is_the_known_bit_stream():
    # A 2 x 1 image whose left pixel is painted: four 255 words, then four 0 words.
    mask = np.array([[1, 0]], dtype=np.uint8)
    expected = _bits_to_bytes(
        _HEADER_OF_8 + "1" + "00" + "011" + "11111111" + "1" + "00" + "011" + "00000000"
    )
    assert encode_mask(mask) == expected
    assert decode_mask(expected, 2, 1).tolist() == [[255, 0]]


def test_decodes_single_value_blocks_as_label_studios_converter_writes_them():
    # The converter writes every lone value as a one-word literal block (0, class 0, count 0).
    words = [7, 9, 9, 9, 0, 0, 0, 0]
    bits = _HEADER_OF_8 + "0" + "00" + "000" + f"{7:08b}"
    bits += "1" + "00" + "010" + f"{9:08b}"
    bits += "1" + "00" + "011" + f"{0:08b}"
    rgba = decode_rgba(_bits_to_bytes(bits), 2, 1)
    assert rgba.ravel().tolist() == words


def test_literal_blocks_hold_several_words():
    words = np.array([1, 2, 3, 4, 4, 4, 4, 5], dtype=np.uint8)
    bits = _HEADER_OF_8 + "0" + "00" + "010" + "".join(f"{v:08b}" for v in (1, 2, 3))
    bits += "1" + "00" + "011" + f"{4:08b}"
    bits += "0" + "00" + "000" + f"{5:08b}"
    assert encode_words(words) == _bits_to_bytes(bits)
    assert decode_rgba(_bits_to_bytes(bits), 2, 1).ravel().tolist() == words.tolist()


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (64, 48), (300, 257)])
def test_round_trip_of_random_masks(shape):
    rng = np.random.default_rng(7)
    mask = (rng.random(shape) > 0.6).astype(np.uint8)
    height, width = shape
    decoded = decode_mask(encode_mask(mask), width, height)
    assert decoded.shape == shape
    assert ((decoded > 0) == (mask > 0)).all()


def test_long_runs_are_split_at_65536_words():
    mask = np.ones((400, 400), dtype=np.uint8)  # 640000 equal words
    rle = encode_mask(mask)
    assert len(rle) < 100
    assert int((decode_mask(rle, 400, 400) > 0).sum()) == 160000


def test_random_words_round_trip_with_long_literal_blocks():
    rng = np.random.default_rng(3)
    words = rng.integers(0, 256, size=4 * 200 * 200, dtype=np.uint8)
    rgba = decode_rgba(encode_words(words), 200, 200)
    assert (rgba.ravel() == words).all()


@pytest.mark.parametrize(
    ("rle", "size", "message"),
    [
        ([1, 2, 3], (1, 1), "fewer than its 7-byte header"),
        ([-1] * 10, (1, 1), "rle[0] is -1"),
        ([256] * 10, (1, 1), "rle[0] is 256"),
        (["a"] * 10, (1, 1), "rle[0] is 'a'"),
        ([True] * 10, (1, 1), "rle[0] is True"),
    ],
)
def test_refuses_values_that_are_not_bytes(rle, size, message):
    with pytest.raises(BrushRleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_rle(rle, *size)


def test_refuses_a_header_that_does_not_fit_the_image():
    rle = encode_mask(np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(BrushRleError, match="holds 64 values but a 5 x 4 RGBA image has 80"):
        check_rle(rle, 5, 4)


def test_refuses_a_truncated_stream():
    rle = encode_mask(np.eye(6, dtype=np.uint8))
    with pytest.raises(BrushRleError, match="ends after"):
        check_rle(rle[:-3], 6, 6)


def test_refuses_a_stream_that_runs_past_its_count():
    bits = _HEADER_OF_8 + "1" + "01" + "1111" + f"{0:08b}"  # 16 words where 8 were announced
    with pytest.raises(BrushRleError, match="more than its 8 values"):
        check_rle(_bits_to_bytes(bits), 2, 1)


def test_refuses_huge_images_and_lists_before_decoding():
    with pytest.raises(BrushRleError, match="pixels"):
        check_rle([0] * 10, MAX_MASK_PIXELS, 2)
    with pytest.raises(BrushRleError, match="at most"):
        check_rle([0] * (MAX_RLE_BYTES + 1), 10, 10)
    # A header that announces a giant image is refused by the size check, not decoded.
    bits = "1" * 32 + "00111" + "0010" + "0011" + "0111" + "1111"
    with pytest.raises(BrushRleError, match="holds 4294967295 values"):
        check_rle(_bits_to_bytes(bits), 10, 10)


BRUSH = parse_label_config(
    """<View>
  <Image name="image" value="$image"/>
  <BrushLabels name="tag" toName="image"><Label value="Road"/><Label value="Sky"/></BrushLabels>
</View>"""
)


def _brush_item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "b1",
        "from_name": "tag",
        "to_name": "image",
        "type": "brushlabels",
        "original_width": 4,
        "original_height": 3,
        "image_rotation": 0,
        "value": {
            "format": "rle",
            "rle": encode_mask(np.eye(3, 4, dtype=np.uint8)),
            "brushlabels": ["Road"],
        },
    }
    item.update(changes)
    return item


def test_a_brush_result_in_label_studios_shape_is_valid():
    validate_result(BRUSH, [_brush_item()])


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"original_width": None}, "result[0].original_width", "positive integer"),
        ({"original_height": -3}, "result[0].original_height", "positive integer"),
        ({"original_width": 5}, "result[0].value.rle", "RGBA image has 60"),
        ({"value": {"format": "png", "rle": [], "brushlabels": ["Road"]}}, "value.format", "png"),
        ({"value": {"format": "rle", "brushlabels": ["Road"]}}, "value.rle", "needs its mask"),
        ({"value": {"format": "rle", "rle": "abc", "brushlabels": ["Road"]}}, "value.rle", "list"),
        ({"value": {"format": "rle", "rle": [-5] * 9, "brushlabels": ["Road"]}}, "value.rle", "-5"),
        ({"value": {"format": "rle", "rle": [0] * 9, "brushlabels": ["Tree"]}}, "labels", "Tree"),
    ],
)
def test_bad_brush_results_name_the_field(changes, where, message):
    with pytest.raises(AnnotationError) as caught:
        validate_result(BRUSH, [_brush_item(**changes)])
    assert where in str(caught.value)
    assert message in str(caught.value)


def test_packs_the_rle_pack_documented_example_to_its_documented_size():
    # The rle-pack package that Label Studio's editor uses documents this input packing to 30 bytes.
    words = np.zeros(1024, dtype=np.uint8)
    words[512:541] = [
        1,
        1,
        1,
        1,
        1,
        2,
        2,
        2,
        2,
        3,
        3,
        3,
        4,
        4,
        5,
        4,
        4,
        3,
        3,
        3,
        2,
        2,
        2,
        2,
        1,
        1,
        1,
        1,
        1,
    ]
    rle = encode_words(words)
    assert len(rle) == 30
    assert (decode_rgba(rle, 256, 1).ravel() == words).all()
