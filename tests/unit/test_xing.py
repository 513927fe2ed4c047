"""The Xing/LAME header filled in as ffmpeg fills it in (voiceguide/encode/mp3/xing.py). That
the result is ffmpeg's to the byte is checked on real files in
tests/integration/test_splice.py; here, the parts."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from voiceguide.encode.mp3 import xing


def test_crc16_is_crc16_arc() -> None:
    assert xing.crc16(b"123456789") == 0xBB3D  # the catalogued check value
    assert xing.crc16(b"") == 0


@pytest.mark.parametrize(
    "length", [0, 1, xing.BLOCK - 1, xing.BLOCK, xing.BLOCK + 1, xing.BLOCK * xing.SLICE + 77]
)
def test_the_music_crc_is_the_crc_of_every_byte(length: int) -> None:
    data = random.Random(length).randbytes(length)
    music = xing.MusicCrc()
    music.update(data[: length // 3])
    music.update(memoryview(data)[length // 3 :])
    assert music.value == xing.crc16(data)


def test_a_repeated_run_counts_as_often_as_it_is_repeated() -> None:
    data = random.Random(1).randbytes(20_433)
    music = xing.MusicCrc()
    music.update(b"before")
    music.repeat(data, 7)
    assert music.value == xing.crc16(b"before" + data * 7)


@pytest.mark.parametrize("frames", [1, 399, 400, 401, 5_000, 30_621])
def test_the_seek_table_points_at_each_percent_of_the_frames(frames: int) -> None:
    sizes = [417 + (i % 49 in (3, 27)) for i in range(frames)]  # a CBR padding pattern
    table = xing.seek_table(418, sizes)
    assert len(table) == xing.TOC_SIZE
    assert table[0] == 0
    total = 418 + sum(sizes)
    starts = [418]
    for size in sizes:
        starts.append(starts[-1] + size)
    # ffmpeg keeps the byte count after every 2**k-th frame (fewer than 400 counts), so
    # an entry may point up to twice that many frames past the exact point, no further.
    step = 1
    while frames // step >= xing.BAGS:
        step *= 2
    for i in range(1, xing.TOC_SIZE):
        exact = 256 * starts[i * frames // xing.TOC_SIZE] / total
        assert exact - 1 <= table[i] <= min(255, exact + 256 * 2 * step * 418 / total + 1)
    assert list(table) == sorted(table)


def test_numpy_waits_until_a_build_needs_it() -> None:
    """numpy takes about 15 MB and a tenth of a second to import: the command line,
    and commands that build nothing (``script``, ``routines``, ``--help``), start
    without it; a build imports it when it levels the session."""
    code = (
        "import sys, voiceguide.cli, voiceguide.build.session,"
        " voiceguide.encode.mp3.splice, voiceguide.encode.mp3.xing;"
        "print('numpy' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
