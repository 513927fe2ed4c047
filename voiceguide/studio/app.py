"""The studio's web application: one page, and the few requests it makes.

Every request passes the :class:`~voiceguide.studio.guard.Guard` first. Bad
input is answered with a message for the page (status 422) and the studio keeps
running; files are found by the ids the studio gave them, never by a path.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from voiceguide.speech import DEFAULT_RATE, ENGINES
from voiceguide.studio import programmes, work
from voiceguide.studio.builds import Builds
from voiceguide.studio.guard import MAX_BODY_BYTES, Guard
from voiceguide.studio.picture import picture
from voiceguide.studio.work import Draft, DraftError, Engines
from voiceguide.text.programme import builtin_programmes
from voiceguide.text.routine import builtin_names
from voiceguide.text.wording import TEMPLATES

PACKAGE = Path(__file__).parent
STATIC = {
    "studio.js": "text/javascript",
    "programme.js": "text/javascript",
    "studio.css": "text/css",
}
_ID = re.compile(r"[0-9a-f]{32}")
#: The speech engines as the page names them (Piper needs the `piper` extra).
ENGINE_NAMES = {"pyttsx3": "espeak-ng (pyttsx3)", "piper": "Piper: a natural voice"}
Handler = Callable[[Request], Awaitable[Response]]


class Studio:
    """The studio's state: its folder, its builds, its engines."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.builds = Builds(workdir)
        self.engines = Engines()  # for plans and samples; the builds have their own
        self.samples: dict[str, Path] = {}
        self.pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(PACKAGE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def close(self) -> None:
        self.builds.stop()
        self.engines.close()


def _problem(e: DraftError) -> JSONResponse:
    return JSONResponse({"error": str(e), "where": e.where}, 422)


async def _json(request: Request) -> Any:
    """The request's JSON body, read up to the studio's limit."""
    body = await _body(request)
    try:
        return json.loads(body)
    except ValueError:
        raise DraftError("the page sent something that is not JSON") from None


async def _body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise DraftError(f"too big: at most {MAX_BODY_BYTES // 1_000_000} MB", "upload")
    return body


def _handles_problems(handler: Handler) -> Handler:
    async def handle(request: Request) -> Response:
        try:
            return await handler(request)
        except DraftError as e:
            return _problem(e)

    return handle


def routes(studio: Studio) -> list[Route]:
    async def page(request: Request) -> Response:
        builtin = work.builtin_templates()
        templates = [
            {"name": name, "what": what, "text": builtin[name],
             "variables": work.template_variables(builtin[name])}
            for name, what in TEMPLATES.items()
        ]  # fmt: skip
        start = {
            "routines": builtin_names(),
            "programmes": builtin_programmes(),
            "catalogue": programmes.catalogue(),
            "routine": work.builtin_routine("hamstring"),
            "templates": templates,
            "engines": list(ENGINES),
            "rate": DEFAULT_RATE,
        }
        html = studio.pages.get_template("page.html").render(
            routines=builtin_names(), programmes=builtin_programmes(), start=_script_json(start),
            engines=list(ENGINES), engine_names=ENGINE_NAMES, rate=DEFAULT_RATE,
        )  # fmt: skip
        return HTMLResponse(html)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return PlainTextResponse("not found", 404)
        return FileResponse(PACKAGE / "static" / name, media_type=STATIC[name])

    async def routine(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in builtin_names():
            return PlainTextResponse("no such routine", 404)
        return JSONResponse({"routine": work.builtin_routine(name)})

    async def programme(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in builtin_programmes():
            return PlainTextResponse("no such programme", 404)
        return JSONResponse({"programme": programmes.builtin_programme(name), "own_routines": {}})

    async def open_file(request: Request) -> Response:
        """One routine file ({"text": ...}), or a programme and the routine files it names
        ({"files": [{"name": ..., "text": ...}, ...]})."""
        data = await _json(request)
        data = data if isinstance(data, dict) else {}
        given = data.get("files", [{"name": "your file", "text": data.get("text")}])
        given = given if isinstance(given, list) else []
        files = [
            (f["name"], f["text"])
            for f in given
            if isinstance(f, dict)
            and isinstance(f.get("name"), str)
            and isinstance(f.get("text"), str)
        ]
        if not files or len(files) != len(given):
            raise DraftError("the page sent no routine or programme file", "open")
        opened = await run_in_threadpool(programmes.open_files, files)
        return JSONResponse(opened)

    async def open_zip(request: Request) -> Response:
        body = await _body(request)
        return JSONResponse(await run_in_threadpool(programmes.open_zip, body))

    async def preview(request: Request) -> Response:
        draft = work.read_draft(await _json(request))
        timeline = await run_in_threadpool(work.plan_draft, draft, studio.workdir, studio.engines)
        drawn = picture(timeline)
        return JSONResponse({
            "picture": studio.pages.get_template("timeline.html").render(p=drawn),
            "script": studio.pages.get_template("script.html").render(p=drawn),
        })  # fmt: skip

    async def build(request: Request) -> Response:
        draft = work.read_draft(await _json(request))
        await run_in_threadpool(work.session_options, draft, studio.workdir)  # fail fast
        await run_in_threadpool(work.check_wording, studio.workdir, draft.templates)
        return JSONResponse({"id": studio.builds.submit(draft).id})

    async def events(request: Request) -> Response:
        build_id = request.path_params["id"]
        found = studio.builds.get(build_id) if _ID.fullmatch(build_id) else None
        if found is None:
            return PlainTextResponse("no such build", 404)
        build = found

        async def stream() -> AsyncIterator[str]:
            seen = -1
            while not studio.builds.stopping:
                if build.version != seen:
                    seen = build.version
                    yield f"data: {json.dumps(build.snapshot())}\n\n"
                    if build.state in ("done", "failed"):
                        return
                await run_in_threadpool(studio.builds.wait, build, seen, 0.5)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})  # fmt: skip

    async def build_file(request: Request) -> Response:
        build_id, name = request.path_params["id"], request.path_params["name"]
        found = studio.builds.file(build_id, name) if _ID.fullmatch(build_id) else None
        if found is None:
            return PlainTextResponse("no such file", 404)
        path, media = found
        download = request.query_params.get("download") == "1"
        filename = f"{found_title(studio, build_id)}-{name}"
        return FileResponse(path, media_type=media,
                            filename=filename if download else None)  # fmt: skip

    async def save_routine(request: Request) -> Response:
        data = await _json(request)
        routine = data.get("routine") if isinstance(data, dict) else None
        if not isinstance(routine, dict):
            raise DraftError("the page sent no routine")
        checked = await run_in_threadpool(work.read_routine, routine)
        return Response(work.routine_yaml(routine), media_type="application/yaml",
                        headers=_attachment(f"{checked.name}.yaml"))  # fmt: skip

    async def save_programme(request: Request) -> Response:
        data = await _json(request)
        data = data if isinstance(data, dict) else {}
        found, own = data.get("programme"), data.get("own_routines", {})
        if (
            not isinstance(found, dict)
            or not isinstance(own, dict)
            or not all(isinstance(v, dict) for v in own.values())
        ):
            raise DraftError("the page sent no programme", "programme")
        filename, content = await run_in_threadpool(programmes.programme_file, found, own)
        media = "application/zip" if filename.endswith(".zip") else "application/yaml"
        return Response(content, media_type=media, headers=_attachment(filename))

    async def save_wording(request: Request) -> Response:
        data = await _json(request)
        templates = data.get("templates") if isinstance(data, dict) else None
        if not isinstance(templates, dict) or not all(
            isinstance(v, str) for v in templates.values()
        ):
            raise DraftError("the page sent no templates")
        await run_in_threadpool(work.check_wording, studio.workdir, templates)
        return Response(work.wording_zip(templates), media_type="application/zip",
                        headers=_attachment("wording.zip"))  # fmt: skip

    async def open_wording(request: Request) -> Response:
        return JSONResponse({"templates": work.open_wording_zip(await _body(request))})

    async def sample(request: Request) -> Response:
        data = await _json(request)
        if not isinstance(data, dict):
            raise DraftError("the page sent no voice")
        text = str(data.pop("text", ""))
        draft = work.read_draft(data)
        sample_id = secrets.token_hex(16)
        target = studio.workdir / "samples" / f"{sample_id}.wav"
        target.parent.mkdir(exist_ok=True)
        await run_in_threadpool(work.speak_sample, draft, text, target, studio.engines)
        studio.samples[sample_id] = target
        return JSONResponse({"url": f"/samples/{sample_id}"})

    async def sample_file(request: Request) -> Response:
        path = studio.samples.get(request.path_params["id"])
        if path is None:
            return PlainTextResponse("no such sample", 404)
        return FileResponse(path, media_type="audio/wav")

    async def voices(request: Request) -> Response:
        draft = Draft(routine={}, engine=request.query_params.get("engine", "pyttsx3"))

        def listed() -> list[dict[str, str]]:
            with studio.engines.lock:
                found = studio.engines.get(draft).voices()
            return [{"id": v.id, "name": v.name} for v in found]

        try:
            return JSONResponse({"voices": await run_in_threadpool(listed)})
        except DraftError as e:
            return _problem(e)

    wrap = _handles_problems
    return [
        Route("/", page),
        Route("/static/{name}", static),
        Route("/api/routines/{name}", routine),
        Route("/api/programmes/{name}", programme),
        Route("/api/open-routine", wrap(open_file), methods=["POST"]),
        Route("/api/open-zip", wrap(open_zip), methods=["POST"]),
        Route("/api/preview", wrap(preview), methods=["POST"]),
        Route("/api/build", wrap(build), methods=["POST"]),
        Route("/api/builds/{id}/events", events),
        Route("/builds/{id}/{name}", build_file),
        Route("/api/routine.yaml", wrap(save_routine), methods=["POST"]),
        Route("/api/programme.yaml", wrap(save_programme), methods=["POST"]),
        Route("/api/wording.zip", wrap(save_wording), methods=["POST"]),
        Route("/api/open-wording", wrap(open_wording), methods=["POST"]),
        Route("/api/sample", wrap(sample), methods=["POST"]),
        Route("/samples/{id}", sample_file),
        Route("/api/voices", voices),
    ]


def _script_json(value: Any) -> Markup:
    """JSON to put inside a <script> element: nothing in it can close the element."""
    text = json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text.replace("&", "\\u0026"))


def found_title(studio: Studio, build_id: str) -> str:
    build = studio.builds.get(build_id)
    name = work.draft_name(build.draft) if build is not None else ""
    return name if re.fullmatch(r"[a-z0-9-]{1,60}", name) else "session"


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def create_app(studio: Studio, token: str, hosts: list[str], cookie: str) -> Guard:
    """The studio's application behind its guard; ``hosts``: the Host values it answers."""
    app = Starlette(routes=routes(studio))
    return Guard(app, token, hosts, cookie)
