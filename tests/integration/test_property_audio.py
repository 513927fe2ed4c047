"""A few generated routines, built with the real engine, decoded and measured.

The planner's properties are tested on many generated routines in
tests/unit/test_planner_properties.py; here a small sample of them goes all the
way through espeak-ng and ffmpeg, and the decoded audio must match the timeline
within ±10 ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.measure import check_session
from voiceguide.build.session import SessionOptions, build_session

pytestmark = pytest.mark.integration

WORDS = ["breathe", "slowly", "keep", "your", "knee", "straight", "relax", "strap", "foot"]

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(
    lambda words: " ".join(words).capitalize() + "."
)


@st.composite
def routines(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "name": "generated",
        "title": "Generated stretch",
        "sides": draw(st.sampled_from([["left"], ["left", "right"]])),
        "step_pause": f"{draw(st.integers(1, 3))}s",
        "steps": draw(st.lists(texts, min_size=1, max_size=2)),
        "reminders": draw(st.lists(texts, max_size=3)),
        "outro": draw(texts),
    }


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(routine=routines(), hold=st.integers(10, 35).map(float))
def test_generated_sessions_sound_as_planned(
    routine: dict[str, Any], hold: float, tmp_path: Path
) -> None:
    folder = tmp_path / f"h{hold:g}-{len(routine['sides'])}-{len(routine['reminders'])}"
    folder.mkdir(exist_ok=True)
    path = folder / "generated.yaml"
    path.write_text(yaml.safe_dump(routine))
    result = build_session(SessionOptions(routine=path, hold=hold), folder / "out.mp3")
    measured = check_session(folder / "out.mp3", hold, result.timeline)
    assert len(measured) == len(routine["sides"])
