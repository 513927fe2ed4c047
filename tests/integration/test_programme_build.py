"""A programme built for real (espeak-ng and ffmpeg): one file, every hold exact, chapters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.measure import decode, hold_onsets, id3_chapters
from voiceguide.build.session import SessionOptions, build_session
from voiceguide.units import SAMPLE_RATE, to_samples

pytestmark = pytest.mark.integration

TOLERANCE = 3 * SAMPLE_RATE // 1000  # 3 ms, as for a routine's session

KNEE = """\
name: knee
title: Knee hug
steps:
  - Lie on your back.
  - Hug your {{ side }} knee.
reminders:
  - Breathe.
release: Let go.
"""

TILT = """\
name: tilt
title: Pelvic tilt
sides: []
steps:
  - Bend your knees.
release: Relax.
pronounce:
  pelvic: pell vick
"""

PROGRAMME = """\
name: short-series
title: A short series
rest: 3s
exercises:
  - routine: knee.yaml
    hold: 12s
    sides: [left]
  - rounds: 2
    rest: 2s
    exercises:
      - routine: tilt.yaml
        hold: 10s
  - routine: knee.yaml
    hold: 11s
"""


def test_a_programme_is_one_file_with_exact_holds_and_a_chapter_per_exercise(
    tmp_path: Path,
) -> None:
    (tmp_path / "knee.yaml").write_text(KNEE)
    (tmp_path / "tilt.yaml").write_text(TILT)
    (tmp_path / "series.yaml").write_text(PROGRAMME)
    out = tmp_path / "series.mp3"
    result = build_session(SessionOptions(routine=tmp_path / "series.yaml"), out)
    planned = result.timeline
    values = decode(out)
    assert len(values) == planned.length
    wanted = [12, 10, 10, 11, 11]
    assert [h.length for h in planned.holds] == [to_samples(s) for s in wanted]
    for hold, seconds in zip(planned.holds, wanted, strict=True):
        start, end = hold_onsets(values, planned, hold)
        assert abs(start - hold.start) <= TOLERANCE
        assert abs(end - hold.end) <= TOLERANCE
        assert abs((end - start) - to_samples(seconds)) <= TOLERANCE
    titles = [title for title, _, _ in id3_chapters(out)]
    assert titles == [
        "Introduction",
        "1. Knee hug",
        "2. Pelvic tilt",
        "3. Pelvic tilt",
        "4. Knee hug",
        "Outro",
    ]
    spoken = [e.text for e in planned.spoken()]
    assert sum(t.startswith("Welcome.") for t in spoken) == 1
    assert (
        "Exercise two of four: pelvic tilt." in spoken
    )  # as written; the engine heard "pell vick"
