"""The studio's gate: its own Host only, and the token it printed, or nothing.

As Jupyter does: the printed address carries a random token; a request that
brings it gets a cookie and is sent on to the same page without it, and every
request after brings the cookie. A Host header that is not the studio's own
(a DNS-rebinding page, another name for this computer) is refused before the
token is even looked at. The cookie is SameSite=Strict, so other sites' pages
cannot send it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_BODY_BYTES = 2_000_000  # the largest request the studio reads (a routine, a zip)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Guard:
    """ASGI middleware that lets through only requests for this studio, with its token."""

    def __init__(self, app: ASGIApp, token: str, hosts: Iterable[str], cookie: str) -> None:
        self.app = app
        self.token = token
        self.hosts = {h.lower() for h in hosts}
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await PlainTextResponse("not here", 403)(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            await PlainTextResponse("The studio answers only at its own address.", 403)(
                scope, receive, send
            )
            return
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await PlainTextResponse(
                f"Too big: the studio reads at most {MAX_BODY_BYTES // 1_000_000} MB.", 413
            )(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        given = dict(query).get("token")
        if given is not None and secrets.compare_digest(given, self.token):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), 303)
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
            await response(scope, receive, send)
            return
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is as good as none
            cookies = SimpleCookie()
        morsel = cookies.get(self.cookie)
        if morsel is None or not secrets.compare_digest(morsel.value, self.token):
            await PlainTextResponse(
                "This studio needs the address it printed when it started (with its token).",
                403,
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)
