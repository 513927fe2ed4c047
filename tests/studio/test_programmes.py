"""Programmes in the studio, through Starlette's test client, with the fake speech engine:
picked, opened with their routine files, edited, planned, built and saved."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from starlette.testclient import TestClient

from tests.studio.conftest import draft
from tests.studio.test_handlers import build
from voiceguide.cli import cli
from voiceguide.studio.app import Studio
from voiceguide.studio.work import builtin_routine
from voiceguide.text.programme import exercises, parse_programme

MY_STRETCH = """\
name: my-stretch
title: My calf stretch
sides: [left, right]
hold: {default: 20s, minimum: 10s}
steps:
  - Stand facing a wall, with your {{ side }} foot back.
reminders:
  - Keep your {{ side }} heel down.
"""

MY_BACK = """\
name: my-back
title: My back series
rest: 15s
exercises:
  - routine: routines/my-stretch.yaml
    hold: 15s
    sides: [left]
  - rounds: 2
    rest: 25s
    exercises:
      - routine: pelvic-tilt
        hold: 20s
"""


def programme(**changes: Any) -> dict[str, Any]:
    """What the page sends for a short programme of built-in routines, with ``changes``."""
    mapping = {
        "name": "two-stretches",
        "title": "Two stretches",
        "rest": "20s",
        "exercises": [
            {"routine": "pelvic-tilt", "hold": "20s"},
            {"routine": "knee-to-chest", "hold": "15s", "sides": ["right"]},
        ],
    }
    mapping.update(changes)
    return {"programme": mapping, "hold": ""}


def titles(svg: str) -> list[str]:
    return re.findall(r"<title[^>]*>([^<]*)</title>", svg)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="voiceguide")


# --- picking and planning -------------------------------------------------------------


def test_the_page_offers_the_built_in_programmes_beside_the_routines(client: TestClient) -> None:
    page = client.get("/").text
    assert '<optgroup label="Programmes: several routines, with rests">' in page
    assert '<option value="programme:lower-back">lower-back (programme)</option>' in page
    assert '<script src="/static/programme.js"></script>' in page
    assert client.get("/static/programme.js").status_code == 200
    found = client.get("/api/programmes/lower-back").json()
    assert found["own_routines"] == {}
    exercises = found["programme"]["exercises"]
    assert [e["routine"] for e in exercises][:2] == ["pelvic-tilt", "knee-to-chest"]
    assert exercises[-1] == {"routine": "hamstring", "hold": "2m"}
    assert client.get("/api/programmes/nosuch").status_code == 404
    assert client.get("/api/programmes/..%2Flower-back").status_code == 404


def test_the_built_in_programme_is_drawn_with_its_exercises_and_rests(client: TestClient) -> None:
    body = {"programme": client.get("/api/programmes/lower-back").json()["programme"]}
    response = client.post("/api/preview", json=body)
    assert response.status_code == 200, response.text
    picture = response.json()["picture"]
    assert picture.count('<g class="exercise">') == 7
    assert picture.count('class="phase rest"') == 6
    assert picture.count('class="phase hold"') == 11  # two sides but for three of them
    shown = titles(picture)
    assert shown[0].startswith("Gentle stretches for the lower back: ")
    assert (
        "; 7 exercises; holds 1. Pelvic tilt: 1:30.0, 2. Knee-to-chest stretch, left:" in shown[0]
    )
    assert "7. Strapped hamstring stretch, right: 2:00.0" in shown[0]
    assert any(re.fullmatch(r"Exercise 3: Figure-four piriformis stretch, from .* to .*", t)
               for t in shown)  # fmt: skip
    assert any(t.startswith("Rest before exercise 4: 0:") for t in shown)
    assert "Exercise 7 (Strapped hamstring stretch), right hold: 2:00.0, from" in picture

    body["programme"]["exercises"][-1]["hold"] = "75s"
    again = titles(client.post("/api/preview", json=body).json()["picture"])[0]
    assert "7. Strapped hamstring stretch, right: 1:15.0" in again


def test_rounds_repeat_a_group_with_a_rest_between_rounds(client: TestClient) -> None:
    body = programme()
    body["programme"]["exercises"].append(
        {"rounds": 3, "rest": "40s", "exercises": [{"routine": "cat-cow", "hold": "10s"}]}
    )
    picture = client.post("/api/preview", json=body).json()["picture"]
    shown = titles(picture)
    assert "; 5 exercises; " in shown[0]
    assert [t.split(",")[0] for t in shown if t.startswith("Exercise ") and ": " in t[:12]] == [
        "Exercise 1: Pelvic tilt",
        "Exercise 2: Knee-to-chest stretch",
        "Exercise 3: Cat-cow stretch",
        "Exercise 4: Cat-cow stretch",
        "Exercise 5: Cat-cow stretch",
    ]
    rests = {
        int(m[0]): float(m[1])
        for m in re.findall(r"Rest before exercise (\d): 0:(\d+\.\d)", picture)
    }
    assert set(rests) == {2, 3, 4, 5}
    assert min(rests[4], rests[5]) >= 40, "the rest between rounds"
    assert min(rests[2], rests[3]) >= 20, "the programme's rest"
    assert max(rests[2], rests[3]) < 40, "the programme's rest"


@pytest.mark.parametrize(
    ("exercises", "own", "words"),
    [
        ([{"routine": "nosuch"}], {}, "no built-in routine called 'nosuch'"),
        ([{"routine": "hamstring", "hold": "soon"}], {}, "'soon' is not a duration"),
        ([{"routine": "pelvic-tilt", "sides": ["left"]}], {}, "'left' is not one of"),
        ([{"rounds": 0, "exercises": ["cat-cow"]}], {}, "rounds"),
        ([{"routine": "cat-cow", "restt": "5s"}], {}, "did you mean 'rest'"),
        ([], {}, "exercises"),
        ([{"routine": "mine.yaml"}], {}, "exercise 1 (mine.yaml): that routine file was not given"),
        ([{"routine": "hamstring"}], {"../mine.yaml": {}}, "not a routine file's name"),
        (
            [{"routine": "mine.yaml"}],
            {"mine.yaml": {**builtin_routine("hamstring"), "extras": {"start_chime": "/etc/x"}}},
            "cannot name sound files",
        ),
    ],
)
def test_a_bad_programme_gets_an_inline_error_and_the_studio_keeps_running(
    client: TestClient,
    studio: Studio,
    exercises: list[Any],
    own: dict[str, Any],
    words: str,
) -> None:
    body = {**programme(exercises=exercises), "own_routines": own}
    response = client.post("/api/preview", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["where"] == "programme"
    assert words in problem["error"]
    assert str(studio.workdir) not in problem["error"]
    assert client.post("/api/build", json=body).status_code == 422
    assert not (studio.workdir / "builds").exists()
    assert client.post("/api/preview", json=programme()).status_code == 200


def test_a_hold_for_every_exercise_is_checked_as_the_hold(client: TestClient) -> None:
    problem = client.post("/api/preview", json={**programme(), "hold": "3s"}).json()
    assert problem["where"] == "hold"
    assert "at least ten seconds" in problem["error"]
    shown = titles(
        client.post("/api/preview", json={**programme(), "hold": "12s"}).json()["picture"]
    )
    assert "1. Pelvic tilt: 0:12.0, 2. Knee-to-chest stretch, right: 0:12.0" in shown[0]


# --- building --------------------------------------------------------------------------


def test_a_programme_builds_with_its_transcript(client: TestClient) -> None:
    done = build(client, programme())
    assert done["state"] == "done", done
    assert done["summary"]["holds"] == [20.0, 15.0]
    base = f"/builds/{done['id']}"
    download = client.get(f"{base}/session.mp3?download=1")
    assert 'filename="two-stretches-session.mp3"' in download.headers["content-disposition"]
    transcript = client.get(f"{base}/transcript.vtt").text
    assert "Exercise one of two: pelvic tilt." in transcript
    assert "Next up, exercise two of two" in transcript
    timeline = client.get(f"{base}/timeline.json").json()
    assert timeline["exercises"] == ["Pelvic tilt", "Knee-to-chest stretch"]


# --- opening and saving ------------------------------------------------------------------


def test_a_programme_of_built_in_routines_saves_as_yaml_for_the_command_line(
    client: TestClient, tmp_path: Path
) -> None:
    body = client.get("/api/programmes/lower-back").json()
    body["programme"]["exercises"][0]["hold"] = "45s"
    body["programme"]["name"] = "annas-back"
    response = client.post("/api/programme.yaml", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/yaml")
    assert 'filename="annas-back.yaml"' in response.headers["content-disposition"]
    saved = tmp_path / "annas-back.yaml"
    saved.write_text(response.text)
    assert next(exercises(parse_programme(response.text, "saved"))).routine == "pelvic-tilt"
    script = run("script", str(saved))
    assert script.exit_code == 0, script.output
    assert "Gentle stretches for the lower back: 7 exercises" in script.output
    assert "hold begins (0:45.0)" in script.output
    files = [{"name": "annas-back.yaml", "text": response.text}]
    opened = client.post("/api/open-routine", json={"files": files})
    assert opened.json() == {"programme": yaml.safe_load(response.text), "own_routines": {}}


def test_a_programme_opens_with_its_routine_file_and_saves_as_a_zip_of_both(
    client: TestClient, tmp_path: Path
) -> None:
    files = [{"name": "my-back.yaml", "text": MY_BACK},
             {"name": "my-stretch.yaml", "text": MY_STRETCH}]  # fmt: skip
    opened = client.post("/api/open-routine", json={"files": files})
    assert opened.status_code == 200, opened.text
    data = opened.json()
    # The routine file is named by its file name: the zip keeps it beside the programme.
    assert data["programme"]["exercises"][0]["routine"] == "my-stretch.yaml"
    assert data["own_routines"]["my-stretch.yaml"]["title"] == "My calf stretch"
    picture = client.post("/api/preview", json=data).json()["picture"]
    assert "1. My calf stretch, left: 0:15.0" in picture

    saved = client.post("/api/programme.yaml", json=data)
    assert saved.headers["content-type"] == "application/zip"
    assert 'filename="my-back.zip"' in saved.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(saved.content))
    assert sorted(archive.namelist()) == ["my-back/my-back.yaml", "my-back/my-stretch.yaml"]
    archive.extractall(tmp_path)
    built = run("build", str(tmp_path / "my-back" / "my-back.yaml"), "-o",
                str(tmp_path / "my-back.mp3"), "-q")  # fmt: skip
    assert built.exit_code == 0, built.output
    assert (tmp_path / "my-back.mp3").stat().st_size > 10_000
    again = client.post("/api/open-zip", content=saved.content)
    assert again.json() == data


def test_opening_a_programme_without_its_routine_file_names_the_file(client: TestClient) -> None:
    files = [{"name": "my-back.yaml", "text": MY_BACK}]
    problem = client.post("/api/open-routine", json={"files": files}).json()
    assert problem["where"] == "open"
    assert (
        "my-back.yaml names your routine file my-stretch.yaml: open it together" in problem["error"]
    )
    two = [*files, {"name": "other.yaml", "text": MY_BACK.replace("my-back", "other")}]
    problem = client.post("/api/open-routine", json={"files": two}).json()
    assert "open one programme at a time" in problem["error"]
    broken = MY_BACK.replace("rest: 15s", "rest: soon")
    files = [{"name": "my-back.yaml", "text": broken}]
    problem = client.post("/api/open-routine", json={"files": files}).json()
    assert re.search(r"my-back.yaml, line 3: rest: 'soon' is not a duration", problem["error"])
    assert client.post("/api/open-zip", content=b"PK not a zip").status_code == 422
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(21):
            archive.writestr(f"r{n}.yaml", MY_STRETCH)
    problem = client.post("/api/open-zip", content=many.getvalue()).json()
    assert "too many files in the zip: at most 20" in problem["error"]
    assert client.post("/api/open-routine", json={"files": "x"}).status_code == 422
    assert client.get("/").status_code == 200


def test_a_routine_opened_as_a_file_is_still_a_routine(client: TestClient) -> None:
    text = yaml.safe_dump(draft()["routine"])
    opened = client.post("/api/open-routine", json={"files": [{"name": "h.yaml", "text": text}]})
    assert opened.json()["routine"]["name"] == "hamstring"
