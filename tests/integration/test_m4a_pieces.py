"""An M4A is encoded in two pieces by two AAC encoders and joined without a second
encode (voiceguide/encode/m4a.py). Proof that this is safe: the file is the same for
any --jobs, decodes to the planned length with exact holds, and is sample for sample
what one encoder gives up to the first sound after the cut, and as faithful from there.

Real espeak-ng (through pyttsx3) and ffmpeg; these fail, never skip, without them.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import voiceguide.build.session as session_module
from tests.helpers import first_arguments
from tests.integration.measure import check_session, decode, probe
from voiceguide.build.session import SessionOptions, build_session
from voiceguide.encode import m4a
from voiceguide.encode.export import AAC_FRAME

pytestmark = pytest.mark.integration

# A short session (1:45), so that six builds stay quick.
ROUTINE = """\
name: quick
title: Quick stretch
steps:
  - Lie on your back.
  - Reach for your {{ side }} foot.
reminders:
  - Breathe out slowly.
  - Keep your knee straight.
release: Let go.
outro: Well done.
"""


def test_two_encoders_write_one_faithful_m4a_for_any_jobs_or_give_way_to_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routine = tmp_path / "quick.yaml"
    routine.write_text(ROUTINE)
    options = SessionOptions(routine=routine, hold=15.0)
    joined = first_arguments(monkeypatch, m4a, "join")  # the first piece of each join
    two = build_session(options, tmp_path / "two.m4a", jobs=2)
    # Without the cache (which now keeps the joined frames), encoded one by one.
    one = build_session(replace(options, use_cache=False), tmp_path / "one.m4a", jobs=1)
    timeline = two.timeline
    cut = m4a.plan_cut(timeline)
    assert cut is not None
    assert len(joined) == 2  # both builds joined two pieces: at once, then one by one
    assert (tmp_path / "two.m4a").read_bytes() == (tmp_path / "one.m4a").read_bytes()
    assert one.written.levelled == two.written.levelled

    # With the cache, the same session puts the frames it kept into MP4 again; kept
    # frames that do not match their digest are encoded again. The same file each time.
    (kept,) = (Path(os.environ["VOICEGUIDE_CACHE_DIR"]) / "encoded").iterdir()
    build_session(options, tmp_path / "again.m4a", jobs=2)
    assert len(joined) == 2  # nothing encoded
    # (The check's parts, the digest and the count, each have a unit test.)
    changed = bytearray(kept.read_bytes())
    changed[len(changed) // 2] ^= 1
    kept.write_bytes(bytes(changed))
    build_session(options, tmp_path / "mended.m4a", jobs=2)
    assert len(joined) == 3
    assert (tmp_path / "mended.m4a").read_bytes() == (tmp_path / "two.m4a").read_bytes()
    assert m4a.joined_whole(kept.read_bytes(), timeline.length)
    assert (tmp_path / "again.m4a").read_bytes() == (tmp_path / "two.m4a").read_bytes()

    # The same session from one encoder, as before the pieces.
    monkeypatch.setattr(session_module, "plan_cut", lambda _: None)
    whole = tmp_path / "whole.m4a"
    build_session(options, whole, jobs=2)
    assert len(joined) == 3

    # Decoded: the planned length, exact holds, and one encoder's samples up to the
    # first sound after the cut (the join itself decodes to zeros, as one encoder's).
    a, b = np.asarray(decode(tmp_path / "two.m4a")), np.asarray(decode(whole))
    assert len(a) == len(b) == timeline.length
    check_session(tmp_path / "two.m4a", 15.0, timeline)
    after = min(e.start for e in timeline.events if e.kind != "pause" and e.start > cut)
    # (AAC frames overlap by one, and the encoder looks one ahead to choose its window:
    # the two frames before the sound's may hold it too.)
    until = (after // AAC_FRAME - 2) * AAC_FRAME
    assert np.array_equal(a[:until], b[:until])
    assert not a[cut - m4a.MARGIN : cut + AAC_FRAME + m4a.MARGIN].any()
    # From there on, another encode of the same audio: the two differ by about the
    # codec's noise, far under the speech (measured: 34 dB under).
    signal = math.sqrt(float(np.mean(np.square(b[until:].astype(np.float64)))))
    difference = a[until:].astype(np.int64) - b[until:].astype(np.int64)
    rms = math.sqrt(float(np.mean(np.square(difference.astype(np.float64)))))
    print(f"pieces vs one encoder after the cut: RMS difference {rms:.1f}, signal {signal:.1f}")
    assert 0 < rms < signal / 20  # 26 dB under
    assert abs(two.written.levelled.final.integrated - -16.0) <= 1.0
    assert two.written.levelled.final.true_peak <= -1.0

    # Tags and chapters, as one encoder's file has them.
    info, reference = probe(tmp_path / "two.m4a"), probe(whole)
    stream: dict[str, Any] = info["streams"][0]  # type: ignore[index]
    assert stream["codec_name"] == "aac"
    assert info["chapters"] == reference["chapters"]
    assert len(info["chapters"]) == 6  # type: ignore[arg-type]
    assert info["format"]["tags"] == reference["format"]["tags"]  # type: ignore[index]

    # Pieces whose frames are not as counted (another ffmpeg's ways): one encoder.
    def refuse(*_: object) -> None:
        raise m4a.NotJoinableError("the first piece's frames do not end at the cut")

    monkeypatch.setattr(session_module, "plan_cut", m4a.plan_cut)
    monkeypatch.setattr(m4a, "join", refuse)
    refused = tmp_path / "refused.m4a"
    steps: list[tuple[str, int, int]] = []
    no_cache = replace(options, use_cache=False)  # (which holds the joined frames)
    build_session(no_cache, refused, progress=lambda *step: steps.append(step), jobs=2)
    assert refused.read_bytes() == whole.read_bytes()
    # Its progress went through the pieces, then on with the one encoder, never back.
    encoding = [done for stage, done, _ in steps if stage == "encoding"]
    assert encoding == sorted(encoding)
    assert encoding[-1] == timeline.length
