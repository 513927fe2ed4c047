from __future__ import annotations

import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide import speech


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note each phase's report on the test, for the fixtures' teardown to read."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.fixture(autouse=True)
def _private_cache(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """Every test gets its own speech cache, never the user's; a passing test's is
    deleted when it ends, as its tmp_path is (a whole run's caches came to 1.5 GB)."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("VOICEGUIDE_CACHE_DIR", str(folder))
    yield folder
    reports = request.node.stash.get(_REPORTS, {})
    if all(report.passed for report in reports.values()) and "call" in reports:
        shutil.rmtree(folder, ignore_errors=True)


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
