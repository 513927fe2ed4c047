"""Batches: batch files, jobs for several holds, and building many sessions at once."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide.build import batch
from voiceguide.build.batch import Job, build_batch, jobs_for
from voiceguide.build.batchfile import load_batch
from voiceguide.build.session import Prepared, Progress, SessionOptions, session_extras
from voiceguide.errors import BatchError, ExportError, VoiceguideError
from voiceguide.text.extras import Countdown, Pacer
from voiceguide.text.routine import load_routine
from voiceguide.text.routine_extras import package_sounds

# --- batch files -------------------------------------------------------------------------


def write(folder: Path, text: str, name: str = "clients.yaml") -> Path:
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def test_a_batch_file_merges_defaults_and_resolves_paths_beside_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
defaults:
  rate: 140
  templates: wording
sessions:
  - output: anna.mp3
    hold: 3m
  - {output: ben.mp3, hold: 90s, rate: 170, routine: routines/mine.yaml, bitrate: 64k}
  - voice: gmw/en-GB-x-rp
  - voice_model: voices/alan.onnx
""",
    )
    anna, ben, third, fourth = load_batch(path)
    assert anna.options.hold == 180.0
    assert anna.options.rate == 140
    assert anna.options.routine == "hamstring"
    assert anna.options.templates == tmp_path / "wording"
    assert anna.folder / (anna.output or Path()) == tmp_path / "anna.mp3"
    assert ben.options.rate == 170
    assert ben.options.routine == tmp_path / "routines" / "mine.yaml"
    assert ben.options.bitrate == "64k"
    assert third.output is None
    assert third.options.hold is None
    assert third.options.voice == "gmw/en-GB-x-rp"
    assert third.label == f"{path}, line 8: session 3"
    assert third.options.engine == "pyttsx3"
    assert fourth.options.engine == "piper"  # a voice model implies Piper, as on the command line
    assert fourth.options.voice_model == tmp_path / "voices" / "alan.onnx"


def test_a_batch_file_sets_extras_and_loudness_as_the_build_options_do(tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    shutil.copy(package_sounds() / "chime-end.wav", tmp_path / "sounds" / "bell.wav")
    path = write(
        tmp_path,
        """\
defaults:
  pacer: true
  volume: {pacer: -24}
sessions:
  - output: anna.mp3
    countdown_from: 5
    start_chime: sounds/bell.wav
    volume: {chime: -6}
    loudness: -18
  - output: ben.mp3
    pacer: false
  - output: carla.mp3
    background: off
    end_chime: off
    breaths: 4
""",
    )
    anna, ben, carla = (job.options for job in load_batch(path))
    routine = load_routine("hamstring")
    extras = session_extras(anna, routine)
    assert extras.countdown == Countdown(5)
    assert extras.pacer == Pacer(volume=-24.0)
    assert extras.start_chime == tmp_path / "sounds" / "bell.wav"
    assert extras.end_chime == "default"
    assert extras.chime_volume == -6.0
    assert anna.loudness == -18.0
    # Turning the pacer off drops the default's pacer volume, without an error.
    assert session_extras(ben, routine).pacer is None
    assert ben.loudness == SessionOptions().loudness
    extras = session_extras(carla, routine)
    assert extras.pacer == Pacer(4.0, -24.0)
    assert (extras.background, extras.end_chime) == (None, "off")


def test_a_session_turns_on_an_extra_the_defaults_turn_off(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "defaults: {countdown: false, pacer: false}\n"
        "sessions:\n  - countdown_from: 4\n  - breaths: 5\n  - {}\n",
    )
    first, second, third = (session_extras(j.options, load_routine("hamstring")) for j in
                            load_batch(path))  # fmt: skip
    assert first.countdown == Countdown(4)
    assert second.pacer == Pacer(5.0)
    assert (third.countdown, third.pacer) == (None, None)


def test_a_session_keeps_the_defaults_setting_when_it_turns_the_extra_on(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "defaults: {countdown_from: 5, breaths: 8, volume: {pacer: -24, countdown: -3}}\n"
        "sessions:\n  - {countdown: true, pacer: true}\n  - {countdown: false, pacer: false}\n",
    )
    first, second = (session_extras(j.options, load_routine("hamstring")) for j in
                     load_batch(path))  # fmt: skip
    assert first.countdown == Countdown(5, -3.0)
    assert first.pacer == Pacer(8.0, -24.0)
    assert (second.countdown, second.pacer) == (None, None)


def test_a_default_volume_applies_only_where_the_session_has_the_extra(tmp_path: Path) -> None:
    mini = write(tmp_path, MINI, "mini.yaml")
    path = write(
        tmp_path,
        "defaults: {routine: mini.yaml, volume: {pacer: -24, chime: -3}}\n"
        "sessions:\n  - {}\n  - {pacer: true}\n  - {start_chime: off, end_chime: off}\n",
    )
    routine = load_routine(mini)
    plain, paced, quiet = (session_extras(j.options, routine) for j in load_batch(path))
    assert (plain.pacer, plain.chime_volume) == (None, -3.0)  # the mini routine has no pacer
    assert paced.pacer == Pacer(volume=-24.0)
    assert (quiet.start_chime, quiet.end_chime) == ("off", "off")


def test_the_documented_example_batch_file_reads(tmp_path: Path) -> None:
    using = (Path(__file__).resolve().parents[2] / "docs" / "using.md").read_text("utf-8")
    section = using[using.index("A batch file lists sessions") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", 10)]
    jobs = load_batch(write(tmp_path, example))
    assert [j.output for j in jobs] == [Path(f"{n}.mp3") for n in ("anna", "ben", "carla", "dan")]
    dan = jobs[3].options
    assert dan.loudness == -18.0
    assert dan.extras_change.countdown_from == 5
    assert dan.extras_change.volumes == (("pacer", -24.0),)
    assert dan.extras_change.end_chime == tmp_path / "sounds" / "gong.wav"


def test_outputs_go_into_the_folder_given(tmp_path: Path) -> None:
    path = write(tmp_path, "sessions:\n  - output: anna.mp3\n")
    (tmp_path / "out").mkdir()
    (job,) = load_batch(path, tmp_path / "out")
    assert job.folder == tmp_path / "out"
    with pytest.raises(BatchError, match="missing is not a folder"):
        load_batch(path, tmp_path / "missing")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sessions:\n  - hold: 3m\n    outptu: a.mp3\n",
         "line 3: session 1: unknown key 'outptu'; did you"),
        ("sessions:\n  - hold: soon\n", "line 2: session 1: hold: 'soon' is not a duration"),
        ("sessions:\n  - rate: 20\n",
         "line 2: session 1: rate: 20 is out of range; write at least 80"),
        ("sessions:\n  - bitrate: 100k\n", "line 2: session 1: bitrate: use one of 64k, 96k"),
        ("sessions: []\n", "line 1: sessions: write at least 1 item"),
        ("defaults: {}\n", "sessions is required"),
        ("- hold: 3m\n", "a batch file must be a mapping with a list of sessions"),
        ("sessions:\n  - &a {hold: 3m}\n  - *a\n", "line 2: invalid YAML: anchors and aliases"),
        ("sessoins: []\n", "line 1: unknown key 'sessoins'; did you mean 'sessions'?"),
        ("sessions:\n  - hold: 3m\x00\n", "line 2: invalid YAML: unacceptable character #x0000"),
        ("sessions:\n  - {countdown: false, countdown_from: 3}\n",
         "line 2: session 1: countdown: false and countdown_from contradict each other"),
        ("sessions:\n  - volume: {pacr: -3}\n",
         "line 2: session 1: volume: 'pacr' is not an extra; give a volume for countdown,"),
        ("sessions:\n  - volume: {pacer: -70}\n",
         "line 2: session 1: volume.pacer: -70 is out of range; write at least -60"),
        ("sessions:\n  - loudness: -5\n",
         "line 2: session 1: loudness: -5 is out of range; write at most -9"),
        ("sessions:\n  - countdown: 3\n",
         "line 2: session 1: countdown: give true or false (a number goes in countdown_from)"),
        ("sessions:\n  - start_chime: ' '\n",
         "line 2: session 1: start_chime: give default, off or a sound file"),
        ("sessions:\n  - breaths: 30\n",
         "line 2: session 1: breaths: 30 is out of range; write at most 20"),
        ("sessions:\n  - volume: {pacer: off}\n",
         "line 2: session 1: volume.pacer: give a number, not false"),
        ("sessions:\n  - loudness: no\n", "line 2: session 1: loudness: give a number, not false"),
        ("sessions:\n  - volume: {1: -6}\n", "line 2: session 1: volume: 1 is not an extra"),
        ("sessions:\n  - start_chime: on\n",
         "line 2: session 1: start_chime: give default, off or a sound file"),
        ("sessions:\n  - background: true\n",
         "line 2: session 1: background: give noise, none or a sound file"),
        ("defaults: {rate: 1}\nsessions:\n  - {}\n",
         "line 1: defaults: rate: 1 is out of range; write at least 80"),
        ("sessions:\n  - rate: yes\n", "line 2: session 1: rate: give a number, not true"),
        ("defaults: {pacer_volume: -3}\nsessions:\n  - {}\n",
         "line 1: defaults: unknown key 'pacer_volume'"),
        ("sessions:\n  - end_chime:\n",
         "line 2: session 1: end_chime: no value; give one, or leave the key out"),
        # the key's own line, not the session's
        ("sessions:\n  - output: a.mp3\n    rate: 150\n    end_chime:\n    hold: 1m\n",
         "line 4: session 1: end_chime: no value; give one, or leave the key out"),
        ("defaults:\n  rate: 150\n  hold:\nsessions:\n  - {}\n",
         "line 3: defaults: hold: no value; give one, or leave the key out"),
    ],
)  # fmt: skip
def test_bad_batch_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(BatchError) as caught:
        load_batch(path)
    assert str(caught.value).startswith(f"{path}")
    assert message in str(caught.value)


def test_a_missing_batch_file(tmp_path: Path) -> None:
    with pytest.raises(BatchError, match=r"batch file .*nothing.yaml does not exist"):
        load_batch(tmp_path / "nothing.yaml")


# --- jobs for several holds and routines -------------------------------------------------


def test_jobs_for_every_routine_with_every_hold(tmp_path: Path) -> None:
    jobs = jobs_for(["hamstring", "mine.yaml", "hamstring"], [60.0, 300.0, 60.0], SessionOptions())
    assert [(j.options.routine, j.options.hold) for j in jobs] == [
        ("hamstring", 60.0),
        ("hamstring", 300.0),
        ("mine.yaml", 60.0),
        ("mine.yaml", 300.0),
    ]
    assert all(j.output is None for j in jobs)


def test_output_is_a_file_for_one_session_and_a_folder_for_several(tmp_path: Path) -> None:
    (one,) = jobs_for(["hamstring"], [60.0], SessionOptions(), tmp_path / "a.mp3")
    assert one.output == tmp_path / "a.mp3"
    several = jobs_for(["hamstring"], [60.0, 90.0], SessionOptions(), tmp_path)
    assert [j.folder for j in several] == [tmp_path, tmp_path]
    with pytest.raises(BatchError, match=r"a.mp3 is not a folder: 2 sessions are written"):
        jobs_for(["hamstring"], [60.0, 90.0], SessionOptions(), tmp_path / "a.mp3")
    with pytest.raises(BatchError, match=r"make it first \(mkdir -p '.*/my sessions'\)$"):
        jobs_for(["hamstring"], [60.0, 90.0], SessionOptions(), tmp_path / "my sessions")


# --- building ----------------------------------------------------------------------------


MINI = "name: mini\ntitle: Mini\nsteps:\n  - Lie down.\nreminders:\n  - Breathe.\n"


def test_lines_shared_by_sessions_are_spoken_once(tmp_path: Path) -> None:
    engine = FakeEngine()
    mini = write(tmp_path, MINI, "mini.yaml")
    jobs = jobs_for([mini], [20.0, 30.0], SessionOptions(use_cache=False), tmp_path)
    stages: dict[str, tuple[int, int]] = {}
    result = build_batch(
        jobs, lambda stage, done, total: stages.update({stage: (done, total)}), 2, lambda _: engine
    )
    assert len(engine.spoken) == len(set(engine.spoken))
    assert [s.path.name for s in result.sessions] == [
        "mini-20s-per-side.mp3",
        "mini-30s-per-side.mp3",
    ]
    assert all(s.path.stat().st_size > 5_000 for s in result.sessions)
    assert [s.timeline.hold_seconds for s in result.sessions] == [20.0, 30.0]
    # one progress task per stage for the whole batch, finished
    assert stages["speech"] == (len(engine.spoken), len(engine.spoken))
    total = sum(s.timeline.length for s in result.sessions)
    assert stages["encoding"] == (total, total)


def test_two_sessions_with_one_output_are_refused_before_any_work(tmp_path: Path) -> None:
    engine = FakeEngine()
    jobs = [Job(SessionOptions(hold=h), Path("same.mp3"), tmp_path) for h in (20.0, 30.0)]
    with pytest.raises(BatchError, match=r"would both be written to .*same.mp3"):
        build_batch(jobs, engine_for=lambda _: engine)
    assert engine.spoken == []
    assert list(tmp_path.iterdir()) == []


def test_a_bad_session_names_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "sessions:\n  - hold: 20s\n  - hold: 3h\n")
    with pytest.raises(Exception, match=r"clients.yaml, line 3: session 2: .*two hours"):
        build_batch(load_batch(path), engine_for=lambda _: FakeEngine())
    assert [p.name for p in tmp_path.iterdir()] == ["clients.yaml"]


@pytest.mark.parametrize(
    ("session", "message"),
    [
        ("start_chime: bell.wav", r"line 4: session 2: start_chime: .*bell.wav: does not exist"),
        ("background: rain.ogg", r"line 4: session 2: background: .*rain.ogg: does not exist"),
        ("volume: {countdown: -3}", r"line 4: session 2: volume: \{countdown: -3\}: the "
         "countdown is off in this session; turn it on with countdown: true"),
        ("{start_chime: off, end_chime: off, volume: {chime: -3}}",
         "turn it on with start_chime or end_chime"),
        ("end_chime: none", r"end_chime: .*none: does not exist \(for no chime: end_chime: off\)"),
        ("end_chime: sounds", "end_chime: .*sounds: is a folder, not a sound file"),
        ("start_chime: notes.txt", r"the start chime .*notes.txt"),
        # in a file, a hold's advice names no option
        ("hold: 5s", r"line 4: session 2: a hold must be at least ten seconds, got five "
         r"seconds; give 10s or more, such as 1m$"),
    ],
)  # fmt: skip
def test_a_bad_extra_stops_the_batch_before_any_work(
    tmp_path: Path, session: str, message: str
) -> None:
    write(tmp_path, MINI, "mini.yaml")
    write(tmp_path, "not a sound", "notes.txt")
    (tmp_path / "sounds").mkdir()
    path = write(
        tmp_path, f"defaults: {{routine: mini.yaml}}\nsessions:\n  - {{}}\n  - {session}\n"
    )
    engine = FakeEngine()
    with pytest.raises(VoiceguideError, match=message):
        build_batch(load_batch(path), engine_for=lambda _: engine)
    assert engine.spoken == []
    assert list(tmp_path.glob("*.mp3")) == []


def test_a_failing_session_stops_the_others_and_keeps_what_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions: dict[float, str] = {}
    started = threading.Event()

    def fake_write(prepared: Prepared, target: Path, bitrate: str, progress: Progress) -> None:
        action = actions[prepared.timeline.hold_seconds]
        if action == "finish":
            target.write_bytes(b"done")
        elif action == "fail":
            assert started.wait(10)
            raise ExportError("ffmpeg could not encode it")
        else:  # encodes until told to stop
            started.set()
            for block in range(1000):
                progress("encoding", block, 1000)
                threading.Event().wait(0.01)
            target.write_bytes(b"never")

    monkeypatch.setattr(batch, "write_session", fake_write)
    actions.update({40.0: "encode", 30.0: "fail", 20.0: "finish"})
    jobs = jobs_for(["hamstring"], [20.0, 30.0, 40.0], SessionOptions(), tmp_path)
    with pytest.raises(ExportError, match=r"could not encode it$"):
        build_batch(jobs, workers=2, engine_for=lambda _: FakeEngine())
    assert list(tmp_path.iterdir()) == []  # the longest stopped, the shortest never began

    actions.update({30.0: "finish", 20.0: "fail"})  # one at a time, longest first
    jobs = jobs_for(["hamstring"], [20.0, 30.0], SessionOptions(), tmp_path)
    with pytest.raises(ExportError, match=r"\(1 of 2 sessions were finished and kept\)$"):
        build_batch(jobs, workers=1, engine_for=lambda _: FakeEngine())
    assert [p.name for p in tmp_path.iterdir()] == ["hamstring-30s-per-side.mp3"]


def test_the_batch_progress_never_steps_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each session is measured in passes that count from zero, then encoded twice
    # (as when the codec moved the loudness), two sessions at once.
    def fake_write(prepared: Prepared, target: Path, bitrate: str, progress: Progress) -> None:
        for stage, passes in (("loudness", 3), ("encoding", 2)):
            for _ in range(passes):
                for block in range(0, 501, 50):
                    progress(stage, block, 500)
                    threading.Event().wait(0.001)
        target.write_bytes(b"done")

    monkeypatch.setattr(batch, "write_session", fake_write)
    reports: list[tuple[str, int, int]] = []
    jobs = jobs_for(["hamstring"], [20.0, 30.0, 40.0, 50.0], SessionOptions(), tmp_path)
    result = build_batch(jobs, lambda *report: reports.append(report), 2, lambda _: FakeEngine())
    encoding = [(done, total) for stage, done, total in reports if stage == "encoding"]
    assert [stage for stage, _, _ in reports] == ["speech"] * (len(reports) - len(encoding)) + [
        "encoding"
    ] * len(encoding), "one task per stage, in order"
    counts = [done for done, _ in encoding]
    assert counts == sorted(counts), "the count never goes back"
    total = sum(s.timeline.length for s in result.sessions)
    assert {t for _, t in encoding} == {total}
    assert counts[-1] == total


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(BatchError, match="no sessions"):
        build_batch([])
