"""Writes the sample media the new-project preview shows (``labelops/web/static/samples``).

Run ``python -m tests.sample_media labelops/web/static/samples`` to make them again. Only the
standard library and Pillow are used: two PNG pictures, a one-second WAV tone, a two-second WebM
video (VP8 frames taken from lossy WebP pictures, put in a minimal Matroska container) and a
time series CSV. Each file is a few kilobytes.
"""

import io
import math
import struct
import sys
import wave
from pathlib import Path

from PIL import Image, ImageDraw

PICTURE_COLORS = {1: ((222, 235, 247), (49, 130, 189)), 2: ((229, 245, 224), (49, 163, 84))}


def picture(n: int) -> bytes:
    """Returns a 640x480 PNG: a plain background, a box, a circle and the sample's number."""
    background, ink = PICTURE_COLORS[n]
    image = Image.new("RGB", (640, 480), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 110, 330, 300), outline=ink, width=6)
    draw.ellipse((380, 180, 540, 340), fill=ink)
    draw.polygon([(80, 420), (200, 340), (300, 430)], outline=ink, width=4)
    draw.text((24, 20), f"labelops sample {n}", fill=ink)
    out = io.BytesIO()
    image.convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(out, "PNG", optimize=True)
    return out.getvalue()


def tone(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """Returns a mono 8-bit WAV: a 440 Hz tone that fades in and out."""
    samples = bytearray()
    count = int(seconds * rate)
    for i in range(count):
        envelope = math.sin(math.pi * i / count)
        samples.append(int(128 + 100 * envelope * math.sin(2 * math.pi * 440 * i / rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(rate)
        wav.writeframes(bytes(samples))
    return out.getvalue()


def _vp8_frame(image: Image.Image) -> bytes:
    """Returns the VP8 key frame inside a lossy WebP picture of the image."""
    out = io.BytesIO()
    image.save(out, "WEBP", quality=40, method=6)
    data = out.getvalue()
    offset = 12  # "RIFF" size "WEBP"
    while offset < len(data):
        kind, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        if kind == b"VP8 ":
            return data[offset + 8 : offset + 8 + size]
        offset += 8 + size + (size & 1)
    raise ValueError("Pillow wrote no lossy VP8 chunk")


def _size(n: int) -> bytes:
    """Returns an EBML variable-length size (8 bytes, always enough here)."""
    return bytes([0x01]) + n.to_bytes(7, "big")


def _element(element_id: bytes, payload: bytes) -> bytes:
    return element_id + _size(len(payload)) + payload


def _uint(element_id: bytes, value: int) -> bytes:
    return _element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def video(seconds: int = 2, fps: int = 5, width: int = 160, height: int = 120) -> bytes:
    """Returns a WebM (VP8) clip of a square crossing the picture, every frame a key frame."""
    frame_ms = 1000 // fps
    blocks = b""
    for i in range(seconds * fps):
        image = Image.new("RGB", (width, height), (222, 235, 247))
        x = 10 + i * (width - 50) // (seconds * fps - 1)
        ImageDraw.Draw(image).rectangle((x, 40, x + 30, 70), fill=(49, 130, 189))
        header = bytes([0x81]) + struct.pack(">h", i * frame_ms) + bytes([0x80])
        blocks += _element(b"\xa3", header + _vp8_frame(image))  # SimpleBlock, key frame
    ebml = _element(
        b"\x1a\x45\xdf\xa3",
        _uint(b"\x42\x86", 1)  # EBMLVersion
        + _uint(b"\x42\xf7", 1)  # EBMLReadVersion
        + _uint(b"\x42\xf2", 4)  # EBMLMaxIDLength
        + _uint(b"\x42\xf3", 8)  # EBMLMaxSizeLength
        + _element(b"\x42\x82", b"webm")  # DocType
        + _uint(b"\x42\x87", 2)  # DocTypeVersion
        + _uint(b"\x42\x85", 2),  # DocTypeReadVersion
    )
    info = _element(
        b"\x15\x49\xa9\x66",
        _uint(b"\x2a\xd7\xb1", 1_000_000)  # TimecodeScale: milliseconds
        + _element(b"\x44\x89", struct.pack(">d", float(seconds * 1000)))  # Duration
        + _element(b"\x4d\x80", b"labelops")  # MuxingApp
        + _element(b"\x57\x41", b"labelops"),  # WritingApp
    )
    track = _element(
        b"\xae",
        _uint(b"\xd7", 1)  # TrackNumber
        + _uint(b"\x73\xc5", 1)  # TrackUID
        + _uint(b"\x83", 1)  # TrackType: video
        + _uint(b"\x9c", 0)  # FlagLacing
        + _uint(b"\x23\xe3\x83", frame_ms * 1_000_000)  # DefaultDuration (ns)
        + _element(b"\x86", b"V_VP8")  # CodecID
        + _element(b"\xe0", _uint(b"\xb0", width) + _uint(b"\xba", height)),  # Video
    )
    tracks = _element(b"\x16\x54\xae\x6b", track)
    cluster = _element(b"\x1f\x43\xb6\x75", _uint(b"\xe7", 0) + blocks)  # Timecode 0
    return ebml + _element(b"\x18\x53\x80\x67", info + tracks + cluster)


def readings(rows: int = 60) -> bytes:
    """Returns a time series CSV: ``time`` in seconds and a few common channel names."""
    lines = ["time,value,temperature,pressure,humidity"]
    for t in range(rows):
        wave_ = math.sin(t / 6)
        lines.append(
            f"{t},{wave_:.3f},{20 + 3 * wave_:.2f},{1013 + 4 * math.cos(t / 9):.1f},"
            f"{55 + 10 * math.sin(t / 13):.1f}"
        )
    return ("\n".join(lines) + "\n").encode()


def write_samples(folder: Path) -> list[Path]:
    """Writes every sample file into the folder; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "sample-1.png": picture(1),
        "sample-2.png": picture(2),
        "sample-1.wav": tone(),
        "sample-1.webm": video(),
        "sample-1.csv": readings(),
    }
    for name, body in files.items():
        (folder / name).write_bytes(body)
    return [folder / name for name in files]


if __name__ == "__main__":
    for path in write_samples(Path(sys.argv[1])):
        sys.stdout.write(f"{path} {path.stat().st_size} bytes\n")
