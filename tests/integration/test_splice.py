"""The default MP3 path encodes a session with its long silences cut out and splices
them back in as repeated silent frames (voiceguide/encode/mp3/splice.py). Proof that this is
safe: the result decodes, sample for sample, to the short file's audio with the
silence put back, and differs from a plain encode of the whole session only by the
codec's own noise; and the short file, which the build measures with its silence put
back, measures as the finished one.

Real espeak-ng (through pyttsx3) and ffmpeg; these fail, never skip, without them.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import voiceguide.build.session as session_module
from tests.fakes import FakeEngine
from tests.integration.measure import assert_agrees_with_ffmpeg, check_session, decode
from voiceguide.build.session import SessionOptions, build_session
from voiceguide.encode import levelling
from voiceguide.encode.export import FORMATS, Encoding, Tags
from voiceguide.encode.levelling import LIMITER_CEILING
from voiceguide.encode.meter import measure_file
from voiceguide.encode.mp3 import splice, split
from voiceguide.progress import no_progress
from voiceguide.sound.islands import Sounds
from voiceguide.text.extras import Extras, Pacer
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration


def test_the_spliced_mp3_is_the_short_one_with_its_silence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = SessionOptions(hold=60.0)
    short = tmp_path / "short.mp3"
    expand = splice.expand

    def keep_short(source: Path, *rest: object) -> bool:
        shutil.copyfile(source, short)
        return expand(source, *rest)  # type: ignore[arg-type]

    # Two encoders share the short render's encode (voiceguide/encode/mp3/split.py): jobs=2.
    encodes: list[tuple[Any, ...]] = []
    encode_short = split.encode_short

    def record(*args: Any) -> None:
        encodes.append(args)
        encode_short(*args)

    monkeypatch.setattr(levelling, "encode_short", record)
    joins: list[split.Split] = []
    join = split.join

    def joined(*args: Any) -> None:
        join(*args)
        joins.append(args[2])

    monkeypatch.setattr(split, "join", joined)
    monkeypatch.setattr(splice, "expand", keep_short)
    spliced = tmp_path / "spliced.mp3"
    result = build_session(options, spliced, jobs=2)
    timeline = result.timeline
    cuts = splice.plan_cuts(timeline)
    assert len(cuts) >= 4
    assert sum(c.length for c in cuts) > 20 * SAMPLE_RATE

    # The same session encoded whole, the plain way, with the same settings.
    monkeypatch.setattr(session_module, "mp3_shortcut", lambda *_: None)
    plain = tmp_path / "plain.mp3"
    whole = build_session(options, plain, jobs=2)  # the same gain search
    assert whole.written.levelled.gain == result.written.levelled.gain

    # Decoded by ffmpeg, sample by sample: the spliced file is the short file's audio
    # with the silence put back, exactly.
    a, b, c = decode(spliced), decode(plain), decode(short)
    assert len(a) == len(b) == timeline.length
    expected = np.array(c, dtype=np.int64)
    for at, length in reversed(splice.gaps(cuts)):
        expected = np.concatenate((expected[:at], np.zeros(length, np.int64), expected[at:]))
    assert np.array_equal(np.array(a, dtype=np.int64), expected)
    check_session(spliced, 60.0, timeline)
    # Against the whole session encoded the plain way: after a cut LAME's hearing
    # threshold has had less silence to fall in, so the first frames of the next sound
    # may differ, far under the codec's own noise (which is 26 dB under speech; the
    # default-length session measured 64 dB under).
    difference = np.array(a, dtype=np.int64) - np.array(b, dtype=np.int64)
    signal = math.sqrt(float(np.mean(np.square(np.array(b, dtype=np.float64)))))
    rms = math.sqrt(float(np.mean(np.square(difference.astype(np.float64)))))
    print(f"spliced vs plain: RMS difference {rms:.2f}, signal RMS {signal:.1f}")
    assert rms < signal / 100  # 40 dB under

    # The short file two encoders wrote is the file one encoder writes, to the byte:
    # frames, tags and header (filled in by voiceguide/encode/mp3/xing.py) alike.
    render, samples, _, encoding, _, plan = encodes[-1]
    assert plan is not None
    assert joins[-1] == plan
    alone = tmp_path / "alone.mp3"
    split.encode_short(render, samples, alone, encoding, no_progress)
    assert short.read_bytes() == alone.read_bytes()

    # The short file the build measured measures as the finished one: silence is gated out.
    assert short.stat().st_size < spliced.stat().st_size - 20 * 16_000
    gaps = splice.gaps(cuts)
    assert measure_file(short, gaps) == measure_file(spliced) == result.written.levelled.final
    # As ffmpeg's own meter measures the finished file, true peak (at 192 kHz) and all.
    assert_agrees_with_ffmpeg(spliced, result.written.levelled.final)


def test_encoders_that_do_not_agree_give_way_to_one(tmp_path: Path) -> None:
    """A split whose second encoder starts in the middle of a word: its frames are not
    the first encoder's, the join refuses them, and one encoder writes the file."""
    prepared = session_module.prepare(SessionOptions(hold=20.0), FakeEngine())
    timeline = prepared.timeline
    speech = [e for e in timeline.events if e.kind == "speech"]
    (period, word) = next(
        (m, e)
        for e in speech
        for m in range(1, timeline.length // splice.PERIOD_SAMPLES)
        if e.start + 4410 < m * splice.PERIOD_SAMPLES < e.end - 4410
    )
    bad = split.Split(period * splice.PERIOD_SAMPLES, word.end + split.CHECK)
    encoding = Encoding(FORMATS["mp3"], "128k", Tags("t", "a", "b"))

    sounds = Sounds(prepared.speech, prepared.chimes)

    def render(start: int, end: int) -> Iterable[bytes]:  # levelled, as a build does
        return sounds.render(timeline, 6.0, LIMITER_CEILING, start, end)

    refused: list[str] = []
    reported: list[int] = []
    joining = split.join

    def join(*args: Any) -> None:
        try:
            joining(*args)
        except splice.NotSpliceable as e:
            refused.append(str(e))
            raise

    one, two = tmp_path / "one.mp3", tmp_path / "two.mp3"
    split.encode_short(render, timeline.length, one, encoding, no_progress)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(split, "join", join)
        split.encode_short(
            render, timeline.length, two, encoding, lambda _, d, t: reported.append(d), bad
        )
    assert refused
    assert "differently" in refused[0]
    assert two.read_bytes() == one.read_bytes()
    assert reported == sorted(reported)
    assert reported[-1] == timeline.length


def test_a_file_that_cannot_be_spliced_is_encoded_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cuts right at the end of each sound: the frames there are not silent.
    monkeypatch.setattr(splice, "SETTLE", 0)
    refused: list[bool] = []
    expand = splice.expand

    def watch(*args: object) -> bool:
        done = expand(*args)  # type: ignore[arg-type]
        refused.append(not done)
        return done

    monkeypatch.setattr(splice, "expand", watch)
    out = tmp_path / "s.mp3"
    result = build_session(SessionOptions(hold=20.0), out, engine=FakeEngine())
    assert refused == [True]
    check_session(out, 20.0, result.timeline)
    assert result.written.levelled.final == measure_file(out)


def test_a_session_with_layers_under_its_holds_is_encoded_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    def record(*args: object) -> bool:
        calls.append(args)
        return False

    monkeypatch.setattr(splice, "expand", record)
    options = SessionOptions(hold=40.0, extras=Extras(pacer=Pacer()))
    out = tmp_path / "s.mp3"
    result = build_session(options, out, engine=FakeEngine())
    assert splice.plan_cuts(result.timeline), "without layers this session would be spliced"
    assert calls == []
    assert len(decode(out)) == result.timeline.length


def test_an_encoded_file_is_whole_only_with_every_frame_as_written(tmp_path: Path) -> None:
    """What a build checks before it uses an encoded file it kept (voiceguide/encode/kept.py)."""
    from voiceguide.encode.export import encode

    samples = 3 * SAMPLE_RATE + 517
    pcm = (8000 * np.sin(np.arange(samples) * 0.05)).astype("<i2").tobytes()
    path = tmp_path / "tone.mp3"
    encoding = Encoding(FORMATS["mp3"], "128k", Tags("Tone", "voiceguide", "Tests"))
    encode([pcm], samples, path, encoding, no_progress, verify=False)
    data = path.read_bytes()
    assert splice.encodes(data, samples)
    assert not splice.encodes(data, samples + 1152)  # not the length asked for
    assert not splice.encodes(data[:-1], samples)  # cut short
    assert not splice.encodes(data[:-418], samples)  # a frame short
    middle = len(data) - 3000  # a bit flipped in an audio frame's data
    assert not splice.encodes(
        data[:middle] + bytes([data[middle] ^ 4]) + data[middle + 1 :], samples
    )


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_spliced_files_duration_is_checked_with_one_job_or_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """With two jobs ffprobe reads it while the short file is measured; with one,
    after. Either way a duration players would read wrongly fails the build, and the
    file already there is left as it was."""
    from voiceguide.encode import export
    from voiceguide.errors import ExportError

    probed: list[Path] = []

    def wrong(path: Path) -> float:
        probed.append(path)
        return 61.0 + 2 * 60.0  # far from any session's length

    monkeypatch.setattr(export, "probe_duration", wrong)
    out = tmp_path / "s.mp3"
    out.write_bytes(b"the session from last week")
    with pytest.raises(ExportError, match=r"the encoded file lasts 181\.000 s, but .* planned"):
        build_session(SessionOptions(hold=40.0), out, engine=FakeEngine(), jobs=jobs)
    assert len(probed) == 1
    assert out.read_bytes() == b"the session from last week"
