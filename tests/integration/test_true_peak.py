"""voiceguide measures files (voiceguide.encode.meter.measure_file: ffmpeg's ebur128 for
the loudness, numpy for the true peak) as ffmpeg's own meter does, true peak and all.

Real ffmpeg; these fail, never skip, without it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.integration.measure import assert_agrees_with_ffmpeg, ffmpeg_loudness
from voiceguide.encode import meter
from voiceguide.encode.decoded import Floats, open_sound
from voiceguide.encode.meter import measure_file
from voiceguide.encode.truepeak import BLOCK
from voiceguide.errors import ExportError
from voiceguide.units import SAMPLE_RATE

if TYPE_CHECKING:
    from voiceguide.encode.bs1770 import Energies

pytestmark = pytest.mark.integration


def write(path: Path, samples: np.ndarray, channels: int = 1, options: Sequence[str] = ()) -> Path:
    """Float samples into ``path``, in whatever format its name asks for (and
    ``options`` of ffmpeg's)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "f64le", "-ar", str(SAMPLE_RATE),
         "-ac", str(channels), "-i", "pipe:0", *options, str(path)],
        input=samples.astype("<f8").tobytes(), check=True,
    )  # fmt: skip
    return path


def faded(samples: np.ndarray) -> np.ndarray:
    """Half a second of raised-cosine fade in and out. An abrupt start or end of a
    loud high tone rings in a band-limited reconstruction: ffmpeg's longer resampling
    filter reads it up to 0.8 dB higher than the 12-tap BS.1770 phases."""
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(SAMPLE_RATE // 2) / (SAMPLE_RATE // 2))
    envelope = np.ones(len(samples))
    envelope[: len(ramp)], envelope[-len(ramp) :] = ramp, ramp[::-1]
    return samples * envelope


def tone(seconds: float) -> np.ndarray:
    """Speech-like loudness: a 3 s burst of a 440 Hz tone every 5 s."""
    n = np.arange(round(seconds * SAMPLE_RATE))
    bursts = (n % (5 * SAMPLE_RATE)) < 3 * SAMPLE_RATE
    return np.asarray(0.2 * np.sin(2 * np.pi * 440 * n / SAMPLE_RATE) * bursts)


def test_intersample_peaks_measure_as_ffmpeg_measures_them(tmp_path: Path) -> None:
    n = np.arange(6 * SAMPLE_RATE)
    # A sine at a quarter of the sample rate, 45° off: every sample is at ±0.354 of
    # its 0.5 peak, 3 dB below it.
    quarter = faded(0.5 * np.sin(2 * np.pi * n / 4 + np.pi / 4))
    # A full-scale square wave of 8 samples a period (5.5 kHz): its true peak is
    # over 0 dBFS (the float PCM carries it, where 16-bit samples would clip).
    square = faded(np.sign(np.sin(2 * np.pi * (n + 0.5) / 8)))
    for name, samples in (("quarter", quarter), ("square", square)):
        path = write(tmp_path / f"{name}.wav", samples)
        measured = measure_file(path)
        assert_agrees_with_ffmpeg(path, measured)
        sample_peak = 20 * math.log10(float(np.abs(samples).max()))
        assert measured.true_peak > sample_peak + 2.0  # 3.0 and 2.4 dB above, exactly
    # Encoded as MP3 (decoded to floats, which may pass full scale), and in stereo.
    mp3 = write(tmp_path / "quarter.mp3", quarter)
    assert_agrees_with_ffmpeg(mp3, measure_file(mp3))
    stereo = write(tmp_path / "stereo.flac", np.column_stack((quarter, 0.5 * square)).ravel(), 2)
    assert_agrees_with_ffmpeg(stereo, measure_file(stereo))


def test_a_silent_file_and_files_that_are_not_audio(tmp_path: Path) -> None:
    silent = write(tmp_path / "silent.wav", np.zeros(SAMPLE_RATE))
    measured = measure_file(silent)
    assert measured.true_peak == -math.inf == ffmpeg_loudness(silent)["true_peak"]
    assert measured.integrated == -70.0  # ffmpeg's floor, as it reports silence
    text = tmp_path / "notes.mp3"
    text.write_text("not audio")
    with pytest.raises(ExportError, match=r"ffmpeg could not read .*notes\.mp3: "):
        measure_file(text)
    with pytest.raises(ExportError, match=r"ffmpeg could not read .*missing\.mp3"):
        measure_file(tmp_path / "missing.mp3")


def test_loudness_and_range_are_ffmpegs_own(tmp_path: Path) -> None:
    path = write(tmp_path / "bursts.mp3", tone(20.0))
    measured = measure_file(path)
    assert_agrees_with_ffmpeg(path, measured)
    assert measured.loudness_range > 0


@pytest.mark.parametrize("ahead", [False, True], ids=["as-read", "ahead"])
@pytest.mark.parametrize("ending", ["mp3", "ogg", "opus", "flac", "wav"])
def test_what_libsndfile_decodes_in_process_measures_as_ffmpegs_decoding(
    tmp_path: Path, ending: str, ahead: bool
) -> None:
    path = write(tmp_path / f"bursts.{ending}", faded(tone(12.0)))
    in_process = meter._measure_in_process(path, (), ahead)
    assert in_process is not None  # every format voiceguide writes but M4A
    by_ffmpeg = meter._measure_with_ffmpeg(path, ())
    assert in_process[0].integrated() == pytest.approx(by_ffmpeg[0].integrated(), abs=1e-4)
    assert in_process[0].loudness_range() == pytest.approx(by_ffmpeg[0].loudness_range(), abs=1e-3)
    assert in_process[1] == pytest.approx(by_ffmpeg[1], rel=1e-5)  # the true peak, linear


@pytest.fixture
def decoded_by(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files ffmpeg decodes to be measured, in order."""
    decoded: list[Path] = []
    by_ffmpeg = meter._measure_with_ffmpeg

    def spied(path: Path, gaps: Sequence[tuple[int, int]]) -> tuple[Energies, float]:
        decoded.append(path)
        return by_ffmpeg(path, gaps)

    monkeypatch.setattr(meter, "_measure_with_ffmpeg", spied)
    return decoded


def test_only_voiceguides_own_files_are_decoded_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decoded_by: list[Path]
) -> None:
    m4a = write(tmp_path / "bursts.m4a", tone(8.0))
    assert meter._measure_in_process(m4a, (), False) is None
    for name in ("noise.au", "noise.raw"):  # bytes with no header: ffmpeg judges them
        (tmp_path / name).write_bytes(bytes(range(256)) * 40)
        assert open_sound(tmp_path / name) is None
    assert_agrees_with_ffmpeg(m4a, measure_file(m4a, ours=True))
    assert decoded_by == [m4a]
    mp3 = write(tmp_path / "bursts.mp3", tone(8.0))
    ours = measure_file(mp3, ours=True)
    assert decoded_by == [m4a]  # decoded in process
    assert measure_file(mp3) == ours  # anyone's file (voiceguide info): ffmpeg decodes it
    assert decoded_by == [m4a, mp3]
    monkeypatch.setitem(sys.modules, "soundfile", None)  # import soundfile: ImportError
    assert measure_file(mp3, ours=True) == ours
    assert decoded_by == [m4a, mp3, mp3]


@pytest.mark.parametrize("ahead", [False, True], ids=["as-read", "ahead"])
def test_a_file_libsndfile_fails_to_decode_midway_is_measured_by_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decoded_by: list[Path], ahead: bool
) -> None:
    import soundfile

    path = write(tmp_path / "bursts.flac", tone(8.0))
    before = measure_file(path)

    class Failing(soundfile.SoundFile):  # type: ignore[misc]
        def buffer_read_into(self, buffer: bytearray, dtype: str) -> int:
            raise soundfile.LibsndfileError(3, "Error reading the file: ")  # malformed

    monkeypatch.setattr(soundfile, "SoundFile", Failing)
    assert meter._measure_in_process(path, (), ahead) is None
    assert measure_file(path, ours=True, ahead=ahead) == before
    assert decoded_by == [path, path]


@pytest.mark.parametrize("ahead", [False, True], ids=["as-read", "ahead"])
def test_an_mp3_that_misstates_its_length_is_measured_by_ffmpeg(
    tmp_path: Path, decoded_by: list[Path], ahead: bool
) -> None:
    # (A VBR MP3 with no Xing header is not caught so: libsndfile estimates its length
    # from its start and stops there, as many frames as it stated. voiceguide's own MP3s
    # always carry the header, and anyone else's file is measured by ffmpeg.)
    noise = np.random.default_rng(17).standard_normal(30 * SAMPLE_RATE)
    quiet_then_loud = noise * np.where(np.arange(len(noise)) < 12 * SAMPLE_RATE, 0.02, 0.3)
    # No Xing header: libsndfile reads a CBR file's length from its size, a frame long.
    cbr = write(tmp_path / "cbr.mp3", quiet_then_loud, options=("-write_xing", "0", "-b:a", "128k"))
    # A Xing header that counts more frames than are left.
    whole = write(tmp_path / "whole.mp3", quiet_then_loud, options=("-b:a", "128k"))
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for path in (cbr, cut):
        assert meter._measure_in_process(path, (), ahead) is None, path.name
        assert measure_file(path, ours=True, ahead=ahead) == measure_file(path), path.name
    assert decoded_by == [cbr, cbr, cut, cut]


def test_a_file_whose_name_is_not_utf8_is_decoded_in_process(tmp_path: Path) -> None:
    folder = tmp_path / os.fsdecode(b"caf\xe9")  # as TMPDIR may be
    folder.mkdir()
    path = write(folder / "bursts.mp3", tone(8.0))
    assert meter._measure_in_process(path, (), False) is not None


def test_a_reader_that_stops_early_stops_the_thread_decoding_ahead(tmp_path: Path) -> None:
    path = write(tmp_path / "long.flac", tone(60.0))  # many more blocks than are kept ahead
    sound = open_sound(path)
    assert sound is not None
    floats = Floats(sound, block=BLOCK)
    first = floats.read(4 * 1000)
    assert np.frombuffer(first, "<f4").tolist() == pytest.approx(tone(60.0)[:1000], abs=1e-4)
    floats.close()  # the thread waits to put a block: close takes them, and it ends
    assert not any(thread.name == "decode" for thread in threading.enumerate())
    assert sound.closed
