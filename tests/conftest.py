from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide import speech


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own speech cache, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def fake_speech(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    """Make the default engine name ("pyttsx3") give a fake engine, for CLI tests."""
    engine = FakeEngine()
    monkeypatch.setitem(speech.ENGINES, "pyttsx3", lambda voice, rate, model, keep: engine)
    return engine


def require_tools(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        pytest.fail(f"integration tests need {', '.join(missing)}; see the README's quick start")
