"""Every test here uses the real tools: they fail, never skip, without them."""

from __future__ import annotations

import pytest

from tests.conftest import require_tools


@pytest.fixture(autouse=True, scope="session")
def _tools() -> None:
    require_tools("ffmpeg", "ffprobe", "espeak-ng")
