"""The studio's handlers through Starlette's test client, with the fake speech engine."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pydub import AudioSegment
from starlette.testclient import TestClient

from tests.studio.conftest import TOKEN, draft
from voiceguide.studio import builds as builds_module
from voiceguide.studio.app import Studio
from voiceguide.studio.guard import MAX_BODY_BYTES
from voiceguide.studio.work import Draft, DraftError
from voiceguide.text.routine import parse_routine
from voiceguide.text.wording import TEMPLATES


def events(client: TestClient, build_id: str) -> list[dict[str, Any]]:
    """Every progress event of a build, as the page receives them, to the last."""
    with client.stream("GET", f"/api/builds/{build_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [
            json.loads(line.removeprefix("data: "))
            for line in response.iter_lines()
            if line.startswith("data: ")
        ]


def build(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/build", json=body)
    assert response.status_code == 200, response.text
    return events(client, response.json()["id"])[-1]


# --- the three refusals, and the token ---------------------------------------------------


def test_a_request_from_another_host_is_refused_even_with_the_token(client: TestClient) -> None:
    for host in ("evil.example", "evil.example:80", "127.0.0.1.nip.io", ""):
        for path in ("/", f"/?token={TOKEN}", "/api/routines/hamstring"):
            response = client.get(path, headers={"Host": host}, follow_redirects=False)
            assert response.status_code == 403, (host, path)
            assert "own address" in response.text
            assert "set-cookie" not in response.headers


def test_a_request_without_the_token_is_refused(anonymous: TestClient) -> None:
    assert anonymous.get("/").status_code == 403
    assert anonymous.get("/?token=wrong").status_code == 403
    assert anonymous.get("/static/studio.js").status_code == 403
    assert anonymous.post("/api/preview", json=draft()).status_code == 403
    anonymous.cookies.set("voiceguide-studio-test", "wrong")
    assert anonymous.get("/").status_code == 403


def test_the_token_sets_a_cookie_and_leaves_the_address(anonymous: TestClient) -> None:
    response = anonymous.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    page = anonymous.get("/")
    assert page.status_code == 200
    assert '<label for="routine">Routine</label>' in page.text
    assert '<label for="hold">Hold per side</label>' in page.text
    assert '<button type="button" id="build" class="primary">Build</button>' in page.text


def test_a_path_outside_the_studios_builds_is_refused(client: TestClient, studio: Studio) -> None:
    secret = studio.workdir / "secret.txt"
    secret.write_text("not for the page")
    done = build(client, draft())
    assert done["state"] == "done"
    build_id = done["id"]
    assert client.get(f"/builds/{build_id}/session.mp3").status_code == 200
    for path in (
        f"/builds/{build_id}/..%2F..%2Fsecret.txt",
        f"/builds/{build_id}/%2e%2e/%2e%2e/secret.txt",
        f"/builds/{build_id}/session.vtt",  # the file's real name: only the offered names
        "/builds/..%2Fsecret.txt/session.mp3",
        f"/builds/{'0' * 32}/session.mp3",
        "/builds/../secret.txt",
        "/static/..%2Fwork.py",
        "/static/%2e%2e%2fwork.py",
        "/samples/..%2Fsecret.txt",
        f"/builds/{studio.workdir}/session.mp3",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "not for the page" not in response.text


# --- planning -------------------------------------------------------------------------


def test_the_plan_draws_the_holds_and_lists_what_was_left_out(client: TestClient) -> None:
    response = client.post("/api/preview", json=draft())
    assert response.status_code == 200, response.text
    picture, script = response.json()["picture"], response.json()["script"]
    assert picture.count('class="phase hold"') == 2
    assert "<title>Left hold: 0:30.0, from " in picture
    assert "holds left: 0:30.0, right: 0:30.0" in picture
    assert "Left out:" in script
    assert "no room left in the hold" in script
    assert "Straighten your left knee." in script


def test_the_plan_follows_an_edited_reminder(client: TestClient) -> None:
    body = draft()
    body["routine"]["reminders"][0] = "Flex your {{ side }} foot, toes to your nose."
    script = client.post("/api/preview", json=body).json()["script"]
    assert "Flex your left foot, toes to your nose." in script
    assert "Flex your right foot, toes to your nose." in script


@pytest.mark.parametrize(
    ("changes", "where", "words"),
    [
        ({"hold": "soon"}, "hold", "soon"),
        ({"hold": "3s"}, "hold", "at least ten seconds"),
        ({"routine": {"title": ""}}, "routine", "title"),
        ({"routine": {"steps": []}}, "routine", "steps"),
        ({"routine": {"sidez": ["left"]}}, "routine", "did you mean 'sides'"),
        ({"routine": {"extras": {"background": "../../etc/passwd"}}}, "routine", "sound files"),
        (
            {"templates": {"reminder": "{{ reminder.text }}\n{{ nope }}"}},
            "reminder",
            "reminder.j2, line 2: 'nope' is undefined",
        ),
        ({"templates": {"outro": "{% if %}"}}, "outro", "outro.j2, line 1: template syntax"),
        ({"templates": {"step": "{{ ''.__class__.__mro__ }}"}}, "step", "step.j2"),
        ({"templates": {"nosuch": "x"}}, "nosuch", "not a template"),
        ({"rate": 1000}, "routine", "rate"),
        # A routine's own text: named by its field, not a line of YAML the page never shows.
        (
            {"routine": {"steps": ["Lie down.", "Breathe.", "Spread your {{ sidee }} toes."]}},
            "routine",
            "the routine: steps 3: 'sidee' is undefined; did you mean 'side'?",
        ),
    ],
)
def test_bad_input_gets_an_inline_error_and_the_studio_keeps_running(
    client: TestClient, studio: Studio, changes: dict[str, Any], where: str, words: str
) -> None:
    response = client.post("/api/preview", json=draft(**changes))
    assert response.status_code == 422
    problem = response.json()
    assert problem["where"] == where
    assert words in problem["error"]
    assert str(studio.workdir) not in problem["error"]
    assert client.post("/api/preview", json=draft()).status_code == 200


# Cues the 30-second draft does not speak: no halfway cue in so short a hold, no
# programme cues for a routine. They are checked all the same, at every step.
UNSPOKEN = [
    ({"halfway": "Halfway {% if x %}"}, "halfway", "halfway.j2, line 1: this {% if %} is never"),
    ({"halfway": "Halfway {{ x }"}, "halfway", "halfway.j2, line 1: template syntax"),
    ({"time_left": "{{ time_lef }} left"}, "time_left", "'time_lef' is undefined"),
    ({"halfway": "{{ time_left | durations_words }}"}, "halfway", "did you mean 'duration_words'"),
    ({"programme_intro": "{{ programme.titel }}"}, "programme_intro", "programme_intro.j2"),
]


@pytest.mark.parametrize(("templates", "where", "words"), UNSPOKEN)
def test_a_mistake_in_a_cue_the_session_does_not_speak_is_found_all_the_same(
    client: TestClient, studio: Studio, templates: dict[str, str], where: str, words: str
) -> None:
    for url in ("/api/preview", "/api/build"):
        response = client.post(url, json=draft(templates=templates))
        assert response.status_code == 422, url
        assert (response.json()["where"], words in response.json()["error"]) == (where, True)
    response = client.post("/api/wording.zip", json={"templates": templates})
    assert response.status_code == 422
    assert response.json()["where"] == where
    assert words in response.json()["error"]
    assert not (studio.workdir / "builds").exists()
    # The same cues, written well, pass, though the session does not speak them.
    fixed = {name: "Halfway there." for name in templates}
    assert client.post("/api/preview", json=draft(templates=fixed)).status_code == 200
    assert client.post("/api/wording.zip", json={"templates": fixed}).status_code == 200


def test_a_template_that_tries_to_escape_the_sandbox_is_refused(client: TestClient) -> None:
    body = draft(templates={"step": "{{ cycler.__init__.__globals__.os.system('id') }}"})
    problem = client.post("/api/preview", json=body).json()
    assert problem["where"] == "step"
    assert "step.j2" in problem["error"]
    assert "unsafe" in problem["error"] or "not allowed" in problem["error"]


def test_a_body_that_is_not_json_gets_an_error(client: TestClient) -> None:
    response = client.post("/api/preview", content=b"{not json")
    assert response.status_code == 422
    assert "not JSON" in response.json()["error"]


def test_uploads_have_a_size_limit(client: TestClient) -> None:
    big = b"x" * (MAX_BODY_BYTES + 1)
    assert client.post("/api/open-wording", content=big).status_code == 413

    def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for _ in range(3):
            yield b"x" * (MAX_BODY_BYTES // 2)

    response = client.post("/api/open-wording", content=chunks())
    assert response.status_code in (413, 422)
    assert "too big" in response.text.lower()


# --- building -------------------------------------------------------------------------


def test_a_build_streams_its_progress_then_offers_its_files(client: TestClient) -> None:
    body = draft()
    body["routine"]["reminders"][0] = "Flex your {{ side }} foot."
    response = client.post("/api/build", json=body)
    seen = events(client, response.json()["id"])
    states = [e["state"] for e in seen]
    assert states[-1] == "done", seen[-1]
    stages = {e["stage"] for e in seen if e["state"] == "running" and e["total"]}
    assert {"Speaking", "Encoding"} <= stages
    assert any(0 < e["done"] < e["total"] for e in seen), "progress between the ends"
    done = seen[-1]
    assert done["summary"]["holds"] == [30.0, 30.0]
    base = f"/builds/{done['id']}"
    audio = client.get(f"{base}/session.mp3")
    assert audio.headers["content-type"] == "audio/mpeg"
    assert audio.content[:3] == b"ID3"
    download = client.get(f"{base}/session.mp3?download=1")
    assert 'filename="hamstring-session.mp3"' in download.headers["content-disposition"]
    transcript = client.get(f"{base}/transcript.vtt").text
    assert transcript.startswith("WEBVTT")
    assert "Flex your left foot." in transcript
    timeline = client.get(f"{base}/timeline.json").json()
    assert [h["duration"] for h in timeline["holds"]] == [30.0, 30.0]


def test_a_build_with_bad_input_is_refused_at_once(client: TestClient, studio: Studio) -> None:
    response = client.post("/api/build", json=draft(hold="2 weeks"))
    assert response.status_code == 422
    assert response.json()["where"] == "hold"
    assert not (studio.workdir / "builds").exists()


def test_builds_run_one_at_a_time_in_order(
    studio: Studio, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    running: list[str] = []
    started: list[str] = []
    overlap: list[int] = []
    lock = threading.Lock()

    def slow_build(found: Draft, workdir: Path, folder: Path, *args: Any) -> Any:
        with lock:
            running.append(found.hold)
            started.append(found.hold)
            overlap.append(len(running))
        time.sleep(0.15)
        with lock:
            running.remove(found.hold)
        raise DraftError("stopped here on purpose", "build")

    monkeypatch.setattr(builds_module, "build_draft", slow_build)
    ids = [client.post("/api/build", json=draft(hold=f"{n}m")).json()["id"] for n in (1, 2, 3)]
    last = [events(client, i)[-1] for i in ids]
    assert [e["state"] for e in last] == ["failed"] * 3
    assert started == ["1m", "2m", "3m"]
    assert max(overlap) == 1


def test_stopping_cancels_the_build_in_progress(studio: Studio, client: TestClient) -> None:
    build_id = client.post("/api/build", json=draft(hold="10m")).json()["id"]
    while studio.builds.get(build_id).state == "queued":  # type: ignore[union-attr]
        time.sleep(0.01)
    studio.builds.stop()
    found = studio.builds.get(build_id)
    assert found is not None
    assert found.state in ("failed", "done")
    if found.state == "failed":
        assert found.error == "the studio stopped"
        assert not found.folder.exists()


# --- keeping and opening ------------------------------------------------------------------


def test_the_routine_saves_as_yaml_that_opens_again(client: TestClient) -> None:
    body = draft()
    body["routine"]["title"] = "Anna's hamstring stretch"
    response = client.post("/api/routine.yaml", json={"routine": body["routine"]})
    assert response.status_code == 200
    assert 'filename="hamstring.yaml"' in response.headers["content-disposition"]
    assert parse_routine(response.text, "saved").title == "Anna's hamstring stretch"
    opened = client.post("/api/open-routine", json={"text": response.text})
    assert opened.json()["routine"]["title"] == "Anna's hamstring stretch"
    bad = client.post("/api/open-routine", json={"text": "title: x\nsteps: [a]\nname: Bad Name"})
    assert bad.status_code == 422
    assert re.search(r"your file, line 3: name", bad.json()["error"])


def test_the_wording_saves_as_a_zip_that_opens_again(client: TestClient) -> None:
    edited = "Now, {{ reminder.text }}\n"
    response = client.post("/api/wording.zip", json={"templates": {"reminder": edited}})
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert "wording/reminder.j2" in archive.namelist()
    assert len(archive.namelist()) == len(TEMPLATES)
    assert archive.read("wording/reminder.j2").decode() == edited
    opened = client.post("/api/open-wording", content=response.content)
    assert opened.json()["templates"]["reminder"] == edited
    assert client.post("/api/open-wording", content=b"PK not a zip").status_code == 422


def test_a_zip_with_a_stranger_file_is_refused(client: TestClient) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("../../evil.j2", "x")
    problem = client.post("/api/open-wording", content=out.getvalue()).json()
    assert "evil.j2 is not a voiceguide template" in problem["error"]


def test_a_voice_sample_is_spoken_and_served_by_its_id(client: TestClient) -> None:
    response = client.post("/api/sample", json={**draft(), "text": "Hello there."})
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    assert re.fullmatch(r"/samples/[0-9a-f]{32}", url)
    wav = client.get(url)
    assert wav.headers["content-type"] == "audio/wav"
    assert wav.content[:4] == b"RIFF"
    voices = client.get("/api/voices?engine=pyttsx3").json()["voices"]
    assert voices == [{"id": "fake/one", "name": "Fake One"}]
    assert client.get("/api/voices?engine=nosuch").status_code == 422


@pytest.mark.integration
def test_a_piper_voice_sample_is_spoken_for_real(client: TestClient) -> None:
    """The `piper` extra (in the test command, so this fails, never skips, without it)."""
    voices = client.get("/api/voices?engine=piper").json()["voices"]
    assert [v["id"] for v in voices] == ["en_US-joe-medium"]
    line = "Breathe deeply, and relax into the stretch."
    body = {**draft(), "engine": "piper", "voice": "en_US-joe-medium", "text": line}
    response = client.post("/api/sample", json=body)
    assert response.status_code == 200, response.text
    wav = client.get(response.json()["url"])
    assert wav.headers["content-type"] == "audio/wav"
    clip = AudioSegment.from_file(io.BytesIO(wav.content), format="wav")
    assert 1.5 < clip.duration_seconds < 5.0, f"7 words at 150 a minute: {clip.duration_seconds} s"
    assert clip.max_dBFS > -12, "speech, not silence"
    problem = client.post("/api/sample", json={**body, "voice": "nobody"}).json()
    assert problem["where"] == "voice"
    assert "unknown voice 'nobody'" in problem["error"]
