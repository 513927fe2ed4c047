from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from voiceguide.studio.app import Studio, create_app
from voiceguide.studio.work import builtin_routine

TOKEN = "test-token-0123456789"
COOKIE = "voiceguide-studio-test"


@pytest.fixture
def studio(tmp_path: Path, fake_speech: Any) -> Iterator[Studio]:
    made = Studio(tmp_path / "studio")
    made.workdir.mkdir()
    yield made
    made.close()


@pytest.fixture
def anonymous(studio: Studio) -> Iterator[TestClient]:
    """A client that has not yet given the token."""
    with TestClient(create_app(studio, TOKEN, ["testserver"], COOKIE)) as client:
        yield client


@pytest.fixture
def client(anonymous: TestClient) -> TestClient:
    """A client that opened the printed address, and so has the cookie."""
    response = anonymous.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    return anonymous


def draft(**changes: Any) -> dict[str, Any]:
    """What the page sends for the hamstring routine, with ``changes``."""
    routine = builtin_routine("hamstring")
    routine.update(changes.pop("routine", {}))
    return {"routine": routine, "hold": "30s", **changes}
