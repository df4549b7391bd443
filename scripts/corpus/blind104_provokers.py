"""Hundred-and-fourth batch of blind provokers: Python media libraries not seen before, each failing for a cause
provoked here (blind104_support). PyAV opening missing, corrupt or unreachable inputs (401, 403 and 503 from the
local status server, a refused port, a reset peer), muxing onto a full or read-only tmpfs, an unknown codec and
a wrong argument type; imageio (v3 plugins and the imageio-ffmpeg reader) on missing or garbled files, URLs
served here, a full tmpfs and a memory limit; OpenCV (cv2.error from empty or wrong-typed arrays, decoding a huge
PNG under RLIMIT_AS); soundfile/libsndfile (garbled and truncated files, an unsupported subtype, a wrong argument
type); pydub (a missing file, a wrong argument type); mutagen (a missing file, an MP3 without frames, saving tags
onto a read-only mount, a wrong frame type); tifffile (missing, corrupt, full disk, memory limit)."""

from __future__ import annotations

from typing import Any

from blind104_support import Media, limited, prepare_media
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND104_SOURCES = frozenset({"pyav104", "imageio104", "opencv104", "soundfile104", "pydub104", "mutagen104",
                              "tifffile104"})


def _av_cases(env: Env, m: Media) -> list[PyCase]:
    import av
    import numpy as np

    def open_url(url: str) -> Any:
        return lambda: av.open(url, timeout=5)

    def mux_to(path: str, frames: int) -> Any:
        def fn() -> None:
            with av.open(path, "w") as out:
                stream = out.add_stream("mpeg4", rate=25)
                stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
                rng = np.random.default_rng(7)
                for _ in range(frames):
                    img = rng.integers(0, 255, (240, 320, 3), dtype="uint8")
                    for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                        out.mux(packet)
                for packet in stream.encode():
                    out.mux(packet)
        return fn

    def unknown_codec() -> None:
        with av.open(str(m.root / "clip-h266.mkv"), "w") as out:
            out.add_stream("h266x", rate=30)

    def wrong_frame_type() -> None:
        av.VideoFrame.from_ndarray([[0, 1], [2, 3]], format="gray")

    return [
        ("pyav_open_missing", "filesystem", "pyav104", "FileNotFoundError",
         lambda: av.open(str(m.root / "dashcam" / "2026-11-29_0815.mp4"))),
        ("pyav_open_garbage", "validation", "pyav104", "InvalidDataError", lambda: av.open(str(m.garbage))),
        ("pyav_http_401", "auth", "pyav104", "HTTPUnauthorizedError", open_url(env.url(401) + "?stream=cam1.mp4")),
        ("pyav_http_403", "auth", "pyav104", "HTTPForbiddenError", open_url(env.url(403) + "?stream=cam2.mp4")),
        ("pyav_http_503", "service", "pyav104", "HTTPServerError|HTTPError",
         open_url(env.url(503) + "?stream=cam3.mp4")),
        ("pyav_peer_reset", "network", "pyav104", "ConnectionResetError|EOFError|OSError",
         open_url(f"http://127.0.0.1:{env.reset_port}/live/cam5.m3u8")),
        ("pyav_refused", "network", "pyav104", "ConnectionRefusedError",
         open_url(f"http://127.0.0.1:{env.closed_port}/live/cam4.m3u8")),
        ("pyav_mux_full_disk", "resource", "pyav104", "OSError", mux_to(str(m.full / "render.mp4"), 60)),
        ("pyav_mux_read_only", "filesystem", "pyav104", "OSError", mux_to(str(m.ro / "render.mp4"), 2)),
        ("pyav_unknown_codec", "validation", "pyav104", "UnknownCodecError|ValueError", unknown_codec),
        ("pyav_frame_from_list", "programming", "pyav104", "AttributeError|TypeError", wrong_frame_type),
    ]


def _imageio_cases(env: Env, m: Media) -> list[PyCase]:
    import imageio.v3 as iio
    import imageio_ffmpeg
    import numpy as np

    def ffmpeg_read(path: str) -> Any:
        return lambda: next(imageio_ffmpeg.read_frames(path))

    return [
        ("imageio_missing", "filesystem", "imageio104", "FileNotFoundError",
         lambda: iio.imread(m.root / "thumbs" / "avatar-88.png")),
        ("imageio_garbage", "validation", "imageio104", "OSError|ValueError", lambda: iio.imread(m.garbage)),
        ("imageio_url_503", "service", "imageio104", "HTTPError", lambda: iio.imread(env.url(503) + "?img=a.png")),
        ("imageio_url_refused", "network", "imageio104", "URLError|ConnectionRefusedError",
         lambda: iio.imread(f"http://127.0.0.1:{env.closed_port}/cdn/banner.png")),
        ("imageio_write_full", "resource", "imageio104", "OSError",
         lambda: iio.imwrite(m.full / "noise.bmp", np.full((300, 300, 3), 7, dtype="uint8"))),
        ("imageio_ffmpeg_garbage", "validation", "imageio104", "OSError|RuntimeError", ffmpeg_read(str(m.garbage))),
    ]


def _cv2_cases(env: Env, m: Media) -> list[PyCase]:
    import cv2
    import numpy as np

    def empty_cvt() -> None:
        frame = np.empty((0, 0, 3), dtype="uint8")
        cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)

    def path_not_array() -> None:
        cv2.resize(str(m.root / "scan.jpg"), (640, 480))

    def float64_threshold() -> None:
        cv2.adaptiveThreshold(np.zeros((32, 32), dtype="float64"), 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                              cv2.THRESH_BINARY, 11, 2)

    return [
        ("opencv_cvtcolor_empty", "programming", "opencv104", "error", empty_cvt),
        ("opencv_resize_path", "programming", "opencv104", "error|TypeError", path_not_array),
        ("opencv_threshold_float64", "programming", "opencv104", "error", float64_threshold),
    ]


def _soundfile_cases(env: Env, m: Media) -> list[PyCase]:
    import numpy as np
    import soundfile

    return [
        ("soundfile_garbage", "validation", "soundfile104", "LibsndfileError|RuntimeError",
         lambda: soundfile.read(m.garbage)),
        ("soundfile_truncated", "validation", "soundfile104", "LibsndfileError|RuntimeError",
         lambda: soundfile.read(m.truncated_wav)),
        ("soundfile_bad_subtype", "validation", "soundfile104", "ValueError",
         lambda: soundfile.write(m.root / "out.wav", np.zeros(800, dtype="float32"), 8000, subtype="VORBIS")),
        ("soundfile_samplerate_str", "programming", "soundfile104", "TypeError",
         lambda: soundfile.write(m.root / "x.wav", np.zeros(800, dtype="float32"), "8000")),
    ]


def _pydub_cases(env: Env, m: Media) -> list[PyCase]:
    import imageio_ffmpeg
    from pydub import AudioSegment

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()

    def mix_with_str() -> None:
        AudioSegment.from_wav(m.wav).overlay("jingle.wav")

    return [
        ("pydub_missing", "filesystem", "pydub104", "FileNotFoundError",
         lambda: AudioSegment.from_file(m.root / "podcast" / "ep-12.mp3")),
        ("pydub_overlay_str", "programming", "pydub104", "AttributeError|TypeError", mix_with_str),
    ]


def _mutagen_cases(env: Env, m: Media) -> list[PyCase]:
    import mutagen
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    def save_read_only() -> None:
        tags = WAVE(m.ro / "album" / "track01.wav")
        tags.add_tags()
        tags.save()

    def tag_with_str() -> None:
        from mutagen.id3 import ID3

        ID3().add("TIT2=Episode 12")

    return [
        ("mutagen_missing", "filesystem", "mutagen104", "MutagenError|FileNotFoundError",
         lambda: mutagen.File(m.root / "library" / "01-intro.flac")),
        ("mutagen_mp3_no_frames", "validation", "mutagen104", "HeaderNotFoundError", lambda: MP3(m.mp3_tagged)),
        ("mutagen_save_read_only", "filesystem", "mutagen104", "MutagenError|OSError", save_read_only),
        ("mutagen_add_str", "programming", "mutagen104", "AttributeError|TypeError", tag_with_str),
    ]


def _tifffile_cases(env: Env, m: Media) -> list[PyCase]:
    import numpy as np
    import tifffile

    return [
        ("tifffile_missing", "filesystem", "tifffile104", "FileNotFoundError",
         lambda: tifffile.imread(m.root / "slides" / "slide-044.tif")),
        ("tifffile_garbage", "validation", "tifffile104", "TiffFileError|ValueError",
         lambda: tifffile.imread(m.garbage)),
        ("tifffile_full_disk", "resource", "tifffile104", "OSError",
         lambda: tifffile.imwrite(m.full / "stack.tif", np.ones((40, 256, 256), dtype="uint8"))),
    ]


def _memory_cases(m: Media) -> list[tuple[str, ToolCase]]:
    return [
        ("opencv104", ("opencv_decode_memory_limit", "resource", "Insufficient memory|MemoryError|allocate",
                       limited(f"import cv2\nimg = cv2.imread({str(m.png_big)!r})\nprint(img.shape)"))),
        ("tifffile104", ("tifffile_alloc_memory_limit", "resource", "MemoryError|allocate",
                         limited("import tifffile\n"
                                 f"tifffile.imwrite({str(m.root / 'huge.tif')!r}, shape=(20000, 20000, 3), "
                                 "dtype='uint8')\n"
                                 f"data = tifffile.imread({str(m.root / 'huge.tif')!r})"))),
        ("imageio104", ("imageio_decode_memory_limit", "resource", "MemoryError|allocate|memory",
                        limited(f"import imageio.v3 as iio\nimg = iio.imread({str(m.png_mid)!r})", 300))),
    ]


def blind104_records(env: Env) -> list[Record]:
    m = prepare_media(env)
    cases: list[PyCase] = []
    for make in (_av_cases, _imageio_cases, _cv2_cases, _soundfile_cases, _pydub_cases, _mutagen_cases,
                 _tifffile_cases):
        cases += make(env, m)
    out = python_records(cases)
    for source, case in _memory_cases(m):
        out += tool_records([case], source, env.tmp, timeout=120)
    return out


if __name__ == "__main__":
    write_batch(blind104_records)


__all__ = ["BLIND104_SOURCES", "blind104_records"]
