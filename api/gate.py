"""One gate in front of every path the server answers (the dashboard's pages, its websocket, `/media`,
uploads, metrics, the API), decided at the HTTP layer before any of them runs.

With APP_PASSWORD or API_TOKEN set, a request needs a session cookie (signed, HttpOnly, SameSite=Lax,
from the sign-in form) or `Authorization: Bearer <API_TOKEN>`; only the sign-in page and the health
checks are open. Who is asking (`core.access.Principal`) is put on the request (`request.state.principal`)
for the API's handlers; the dashboard reads the same cookie through `st.context` (dashboard/auth.py).
A page asked for without a session redirects to the sign-in form, which sends the person back to it.
Wrong passwords and tokens are slowed per client address and across all clients (core.access.GuessLimiter),
and each one checked is a "failed login" in the audit trail (a token: without saying how it was wrong).
Without APP_PASSWORD and API_TOKEN the gate lets everything through as `OPEN_ACCESS`.

With OIDC_PROVIDER set, a person may also sign in through the identity provider (api/oidc.py): the gate
turns Streamlit's verified identity cookie into Sigma's session, with the role Sigma's settings give.

`UploadLimit` holds Streamlit's own upload route (`/_stcore/upload_file`) to MAX_UPLOAD_MB.
"""

from __future__ import annotations

import html
import json
import logging
import math
from urllib.parse import parse_qs, quote, unquote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from api import oidc
from core.access import (
    OPEN_ACCESS,
    SESSION_COOKIE,
    SESSION_MAX_AGE_SEC,
    GuessLimiter,
    Principal,
    gate_enabled,
    issue_session,
    principal_for_session,
    principal_for_token,
    record_sign_in,
    sign_in,
)
from core.config import get_settings
from core.i18n import LANGUAGES, Language, text

SIGN_IN_PATH = "/signin"
SIGN_OUT_PATH = "/signout"
OPEN_PATHS = frozenset(
    {SIGN_IN_PATH, SIGN_OUT_PATH, "/_stcore/health", "/_stcore/script-health-check", "/api/v1/health"}
)
NEXT_COOKIE = "sigma_next"  # where to land after the identity provider's round trip (which ends at "/")
UPLOAD_PREFIX = "/_stcore/upload_file"
UPLOAD_OVERHEAD_BYTES = 64 * 1024
_FORM_MAX_BYTES = 8 * 1024

guesses = GuessLimiter()  # one per process: the sign-in form and bearer tokens draw on the same buckets
_log = logging.getLogger(__name__)


def client_address(scope: Scope) -> str:
    """The caller's address (behind a reverse proxy: run uvicorn with --forwarded-allow-ips)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (never another site, never back here)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(character) < 32 for character in target) or urlsplit(target).netloc:
        return "/"
    if target.split("?", 1)[0] in (SIGN_IN_PATH, SIGN_OUT_PATH):
        return "/"
    return target


def _wanted(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + (f"?{query}" if query else "")


def _json(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps({"detail": detail}), status_code=status, media_type="application/json", headers=headers
    )


def _too_many(wait: float) -> Response:
    seconds = max(1, math.ceil(wait))
    return _json(
        429, f"too many wrong passwords or tokens: try again in {seconds} s", {"Retry-After": str(seconds)}
    )


class Gate:
    """ASGI middleware: a session or a bearer token for every path but the open ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        if not gate_enabled(settings):
            await self._let_in(OPEN_ACCESS, scope, receive, send)
            return
        if scope["path"] in OPEN_PATHS or _oidc_path(scope["path"], settings):
            await self.app(scope, receive, send)  # the sign-in forms and the health checks, whoever asks
            return
        headers = Headers(scope=scope)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            client = client_address(scope)
            wait = guesses.wait_seconds(client)
            if wait > 0:
                await self._refuse(scope, receive, send, lambda *_: _too_many(wait))
                return
            principal = principal_for_token(token.strip(), settings)  # a compare, or a small cached file
            if principal is None:
                guesses.failed(client)
                await run_in_threadpool(record_sign_in, settings, None, None, where="api bearer token")
                await self._refuse(
                    scope, receive, send, lambda *_: _json(401, "the bearer token is not valid")
                )
                return
            guesses.succeeded(client)
            await self._let_in(principal, scope, receive, send)
            return
        cookies = HTTPConnection(scope).cookies
        principal = principal_for_session(cookies.get(SESSION_COOKIE), settings)
        if principal is not None:
            await self._let_in(principal, scope, receive, send)
            return
        principal, _ = oidc.principal(cookies, settings)
        if principal is None:
            await self._refuse(scope, receive, send, _not_signed_in)
        elif _is_page(scope, Headers(scope=scope)):  # back from the provider: Sigma's session from now on
            await run_in_threadpool(
                record_sign_in, settings, principal.name, principal, where="identity provider"
            )
            target = (
                safe_next(unquote(cookies.get(NEXT_COOKIE, ""))) if scope["path"] == "/" else _wanted(scope)
            )
            response = _with_session(RedirectResponse(target, status_code=303), principal, scope)
            response.delete_cookie(NEXT_COOKIE, path="/")
            await response(scope, receive, send)
        else:
            await self._let_in(principal, scope, receive, send)

    async def _let_in(self, principal: Principal, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, "state": {**scope.get("state", {}), "principal": principal}}, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, refusal) -> None:
        """`refusal(scope, headers)` is the HTTP answer; a websocket is closed before it opens (403)."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await refusal(scope, Headers(scope=scope))(scope, receive, send)


def _oidc_path(path: str, settings) -> bool:
    """The identity provider's round trip (Sigma's start, Streamlit's routes): open when OIDC is on."""
    return (path == oidc.START_PATH or path in oidc.STREAMLIT_AUTH_PATHS) and oidc.enabled(settings)


def _is_page(scope: Scope, headers: Headers) -> bool:
    """A person's browser opening a page (not a script, an asset, the media or the API)."""
    return (
        scope["method"] in ("GET", "HEAD")
        and "text/html" in headers.get("accept", "")
        and not scope["path"].startswith(("/api/", "/_stcore/", "/media/", "/component/", "/static/"))
    )


def _with_session(response: Response, principal: Principal, scope: Scope) -> Response:
    """`response` carrying a new session cookie for `principal`."""
    response.set_cookie(
        SESSION_COOKIE,
        issue_session(principal, get_settings()),
        max_age=SESSION_MAX_AGE_SEC,
        path="/",
        httponly=True,
        samesite="lax",
        secure=scope.get("scheme") == "https",
    )
    return response


def _not_signed_in(scope: Scope, headers: Headers) -> Response:
    """A person opening a page is sent to the sign-in form (and back afterwards); anything else is 401."""
    if _is_page(scope, headers):
        return RedirectResponse(f"{SIGN_IN_PATH}?next={quote(_wanted(scope), safe='')}", status_code=303)
    return _json(
        401,
        "sign in first, or send Authorization: Bearer <API_TOKEN>",
        {"WWW-Authenticate": 'Bearer realm="sigma"'},
    )


# --- the sign-in form -------------------------------------------------------------------------------


def _lang(request: Request) -> Language:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    preferred = request.headers.get("accept-language", "")[:2].lower()
    return preferred if preferred in LANGUAGES else get_settings().ui_language


_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; background: #f3f4f6; color: #1f2328; display: grid; place-items: center;
       min-height: 100vh; margin: 0; }}
form {{ background: #fff; padding: 2rem 2.5rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; width: 20rem; }}
h1 {{ margin: 0 0 .3rem; font-size: 1.6rem; }} p {{ margin: .2rem 0 1.2rem; color: #555; }}
label {{ display: block; margin: .8rem 0 .3rem; font-size: .9rem; }}
input {{ width: 100%; box-sizing: border-box; padding: .55rem; border: 1px solid #ccc; border-radius: 4px; }}
button {{ margin-top: 1.2rem; width: 100%; padding: .6rem; border: 0; border-radius: 4px; background: #c0392b;
         color: #fff; font-size: 1rem; cursor: pointer; }}
.error {{ color: #b00020; background: #fdecea; padding: .6rem; border-radius: 4px; }}
a.provider {{ display: block; margin-top: .8rem; padding: .6rem; border: 1px solid #c0392b; border-radius: 4px;
             color: #c0392b; text-align: center; text-decoration: none; }}
</style></head>
<body><form method="post" action="{action}">
<h1>{title}</h1><p>{prompt}</p>{error}
<label for="name">{name_label}</label><input id="name" name="name" autocomplete="username" value="{name}">
<label for="password">{password_label}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{next}">
<button type="submit">{button}</button>{provider}
</form></body></html>"""


def _page(lang: Language, target: str, *, status: int = 200, error: str = "", name: str = "", headers=None):
    def escaped(key: str, **values: object) -> str:
        return html.escape(text(lang, key, **values))

    settings = get_settings()
    provider = ""
    if oidc.enabled(settings):
        start = f"{oidc.START_PATH}?next={quote(target, safe='')}"
        label = escaped("auth.oidc", provider=settings.oidc_provider)
        provider = f'<a class="provider" href="{html.escape(start)}">{label}</a>'

    body = _PAGE.format(
        lang=lang,
        title=escaped("auth.title"),
        prompt=escaped("auth.prompt"),
        error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
        name_label=escaped("auth.name"),
        name=html.escape(name),
        password_label=escaped("auth.password"),
        next=html.escape(target),
        action=f"{SIGN_IN_PATH}?lang={lang}",
        button=escaped("auth.sign_in"),
        provider=provider,
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


async def _sign_in_form(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    settings = get_settings()
    if not gate_enabled(settings) or principal_for_session(request.cookies.get(SESSION_COOKIE), settings):
        return RedirectResponse(target, status_code=303)
    if problem := oidc.configuration_problem(settings):
        _log.error("sign-in through the identity provider is off: %s", problem)
    principal, email = oidc.principal(request.cookies, settings)
    if email and principal is None:  # the provider knows them; Sigma gives them no role
        await run_in_threadpool(record_sign_in, settings, email, None, where="identity provider")
        lang = _lang(request)
        return _page(lang, target, status=403, error=text(lang, "auth.oidc_refused", email=email))
    return _page(_lang(request), target)


async def _start_oidc(request: Request) -> Response:
    """Off to the identity provider (Streamlit's login route), remembering where to land after."""
    response = RedirectResponse(oidc.login_url(get_settings()), status_code=303)
    target = safe_next(request.query_params.get("next"))
    response.set_cookie(
        NEXT_COOKIE, quote(target, safe=""), max_age=600, path="/", httponly=True, samesite="lax"
    )
    return response


async def _read_form(request: Request) -> dict[str, str] | None:
    """A small url-encoded form, or None when it is larger than a sign-in form can be."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _FORM_MAX_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _same_origin(request: Request) -> bool:
    """A form posted from another site (its Origin says so) is not ours to act on."""
    origin = request.headers.get("origin")
    return origin in (None, "null") or urlsplit(origin).netloc == request.headers.get("host")


async def _sign_in(request: Request) -> Response:
    lang = _lang(request)
    settings = get_settings()
    if not _same_origin(request):
        return _json(403, "sign-in forms are accepted from this site only")
    form = await _read_form(request)
    if form is None:
        return _json(413, "the sign-in form is too large")
    target = safe_next(form.get("next"))
    name = form.get("name", "").strip()[:200]
    client = client_address(request.scope)
    wait = guesses.wait_seconds(client)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        message = text(lang, "auth.wait", seconds=seconds)
        return _page(
            lang, target, status=429, error=message, name=name, headers={"Retry-After": str(seconds)}
        )
    principal = await run_in_threadpool(_checked_sign_in, name, form.get("password", ""), settings)
    if principal is None:
        guesses.failed(client)
        return _page(lang, target, status=401, error=text(lang, "auth.wrong"), name=name)
    guesses.succeeded(client)
    return _with_session(RedirectResponse(target, status_code=303), principal, request.scope)


def _checked_sign_in(name: str, password: str, settings) -> Principal | None:
    """The form's credentials checked (an Argon2 verification for a named user: off the event loop)
    and the attempt put in the audit trail."""
    if not gate_enabled(settings):
        return None
    return record_sign_in(settings, name, sign_in(name or None, password, settings), where="sign-in form")


async def _sign_out(request: Request) -> Response:
    """Sigma's session ends; with an identity provider, Streamlit's identity cookie too (else the gate
    would sign the person straight back in from it)."""
    response = RedirectResponse(oidc.LOGOUT_PATH if oidc.enabled(get_settings()) else SIGN_IN_PATH, 303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


sign_in_routes = [
    Route(SIGN_IN_PATH, _sign_in_form, methods=["GET"]),
    Route(SIGN_IN_PATH, _sign_in, methods=["POST"]),
    Route(SIGN_OUT_PATH, _sign_out, methods=["GET", "POST"]),
    Route(oidc.START_PATH, _start_oidc, methods=["GET"]),
]


# --- Streamlit's own upload route -------------------------------------------------------------------


class UploadLimit:
    """ASGI middleware: `/_stcore/upload_file` bodies are refused (413) once they pass MAX_UPLOAD_MB,
    from the declared length at once or while they stream, so none is buffered whole."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(UPLOAD_PREFIX):
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        limit = settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES
        refusal = f"file is larger than MAX_UPLOAD_MB ({settings.max_upload_mb} MB)"
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _json(413, refusal)(scope, receive, send)
            return
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, refusal)  # Streamlit's app answers it, before its form is complete
            return message

        await self.app(scope, counted, send)
