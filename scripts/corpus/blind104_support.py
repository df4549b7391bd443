"""Fixtures of the hundred-and-fourth batch: real media files (a small WAV, TIFF, PNG and MP4 written by the
libraries themselves), corrupt ones (truncated or garbled headers), a full and a read-only tmpfs, and a
subprocess runner that decodes under an RLIMIT_AS memory limit."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from common import Env, run
from servers import mount_tmpfs

PY = sys.executable


@dataclass
class Media:
    """Paths of the batch's media fixtures."""

    root: Path
    wav: Path
    tiff: Path
    png_big: Path
    png_mid: Path
    mp3_tagged: Path
    garbage: Path
    truncated_wav: Path
    full: Path
    ro: Path


def _write_small_media(root: Path) -> tuple[Path, Path]:
    import numpy as np
    import soundfile
    import tifffile

    wav = root / "voice-note.wav"
    soundfile.write(wav, np.zeros((8000, 1), dtype="float32"), 8000)
    tiff = root / "scan-0001.tif"
    tifffile.imwrite(tiff, np.zeros((32, 32), dtype="uint8"))
    return wav, tiff


def _write_big_png(path: Path, side: int) -> None:
    """A side x side black PNG: tiny on disk, side * side * 3 bytes once decoded."""
    import cv2
    import numpy as np

    ok, buf = cv2.imencode(".png", np.zeros((side, side, 3), dtype="uint8"), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok
    path.write_bytes(buf.tobytes())


def prepare_media(env: Env) -> Media:
    root = env.tmp / "media104"
    root.mkdir()
    wav, tiff = _write_small_media(root)
    png_big = root / "panorama-24k.png"
    _write_big_png(png_big, 24000)
    png_mid = root / "poster-12k.png"  # under Pillow's decompression-bomb limit, over the memory limit
    _write_big_png(png_mid, 12000)
    mp3 = root / "episode-12.mp3"
    mp3.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64)  # an empty ID3 tag and no audio frames
    garbage = root / "upload-7f3a.bin"
    garbage.write_bytes(b"<html><body>502 Bad Gateway</body></html>\n" * 40)
    truncated = root / "interview-cut.wav"
    truncated.write_bytes(wav.read_bytes()[:30])
    full = mount_tmpfs(env, "full104", "size=64k")
    (full / "filler.bin").write_bytes(b"\0" * 60 * 1024)
    ro = mount_tmpfs(env, "ro104", "size=256k")
    (ro / "album").mkdir()
    (ro / "album" / "track01.wav").write_bytes(wav.read_bytes())
    (ro / "scan.tif").write_bytes(tiff.read_bytes())
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    return Media(root, wav, tiff, png_big, png_mid, mp3, garbage, truncated, full, ro)


def limited(script: str, limit_mb: int = 600) -> list[str]:
    """argv running `script` in this interpreter under an address-space limit of `limit_mb` MiB."""
    pre = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit_mb} << 20, {limit_mb} << 20))\n"
    return [PY, "-c", pre + script]


__all__ = ["PY", "Media", "limited", "prepare_media", "run"]
