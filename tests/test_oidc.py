"""Sign-in through an identity provider (OIDC_PROVIDER, Streamlit's st.login) behind Sigma's gate, tested
without a provider: the role each address gets, the configuration checked with a clear line, the gate
turning Streamlit's identity cookie (made with Streamlit's own signing) into Sigma's session and refusing
forged, foreign, unverified and unlisted ones, sign-out ending both, and the dashboard naming the person
from `st.user`."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from streamlit import config as streamlit_config
from streamlit.runtime.secrets import secrets_singleton
from streamlit.testing.v1 import AppTest
from streamlit.web.server.starlette.starlette_app_utils import create_signed_value
from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

from api import gate, oidc
from core.access import oidc_principal, oidc_role, principal_for_session
from core.config import Settings, get_settings
from core.evidence.audit import trail_of
from tests.app_harness import configured_app

SECRET = "a cookie secret of more than thirty-two characters"
ORIGIN = "https://sigma.example.org"
PAGE = {"Accept": "text/html"}
GOOD_SECRETS = f"""
[auth]
redirect_uri = "{ORIGIN}/oauth2callback"
cookie_secret = "{SECRET}"

[auth.corp]
client_id = "sigma"
client_secret = "client secret"
server_metadata_url = "https://id.example.org/.well-known/openid-configuration"
"""


def _settings(**values) -> Settings:
    return Settings(_env_file=None, oidc_provider="corp", **values)


def test_roles_come_from_the_address_lists_and_the_default():
    settings = _settings(oidc_analysts="Ann@Corp.example, bo@corp.example", oidc_viewers="vic@corp.example")
    assert settings.oidc_analysts == ["ann@corp.example", "bo@corp.example"]
    assert oidc_role("ANN@corp.example ", settings) == "analyst"
    assert oidc_role("vic@corp.example", settings) == "viewer"
    assert oidc_role("stranger@else.example", settings) == "viewer", "anyone else: OIDC_DEFAULT_ROLE"
    closed = settings.model_copy(update={"oidc_default_role": "none"})
    assert oidc_role("stranger@else.example", closed) is None and oidc_role("", closed) is None
    assert oidc_principal("stranger@else.example", closed) is None
    assert oidc_principal("Ann@Corp.example", closed).model_dump() == {
        "name": "ann@corp.example",
        "role": "analyst",
        "via": "oidc",
    }
    assert oidc_principal("ann@corp.example", Settings(_env_file=None)) is None, "no provider: no one"


@pytest.mark.parametrize(
    "values, field",
    [
        ({"oidc_provider": "my_corp"}, "oidc_provider"),  # Streamlit refuses "_" in provider names
        ({"oidc_analysts": "ann@corp.example, not-an-address"}, "oidc_analysts"),
        ({"oidc_viewers": "two words@corp.example"}, "oidc_viewers"),
        ({"oidc_default_role": "analyst"}, "oidc_default_role"),
    ],
)
def test_bad_settings_are_refused_by_name(values, field):
    with pytest.raises(ValidationError, match=field):
        Settings(_env_file=None, **values)


@pytest.fixture
def secrets_file(tmp_path, monkeypatch):
    """Streamlit reads `path` as .streamlit/secrets.toml; write it with `write(text)`."""
    path = tmp_path / "secrets.toml"
    original = streamlit_config.get_option("secrets.files")

    def write(text: str) -> None:
        path.write_text(text)
        secrets_singleton._reset()
        oidc._problem.cache_clear()

    streamlit_config.set_option("secrets.files", [str(path)])
    write(GOOD_SECRETS)
    yield write
    streamlit_config.set_option("secrets.files", original)
    secrets_singleton._reset()
    oidc._problem.cache_clear()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "configure credentials"),
        (
            GOOD_SECRETS.replace("[auth.corp]", "[auth.other]"),
            'missing for the authentication provider "corp"',
        ),
        (GOOD_SECRETS.replace('client_secret = "client secret"\n', ""), "missing the following keys"),
        (GOOD_SECRETS.replace("/oauth2callback", "/callback"), "redirect_uri"),
        (GOOD_SECRETS.replace(SECRET, "short"), "cookie_secret"),
    ],
)
def test_the_configuration_is_checked_with_one_clear_line(secrets_file, text, problem):
    assert oidc.configuration_problem(_settings()) is None
    secrets_file(text)
    found = oidc.configuration_problem(_settings())
    assert problem in found and "\n" not in found
    assert not oidc.enabled(_settings()), "a broken configuration offers no provider sign-in"


def _identity(**claims) -> str:
    """Streamlit's identity cookie, signed as Streamlit signs it after the provider's callback."""
    payload = {"origin": ORIGIN, "is_logged_in": True, "provider": "corp", **claims}
    return create_signed_value(SECRET, USER_COOKIE_NAME, json.dumps(payload)).decode()


def _app() -> Starlette:
    async def whoever(request: Request) -> PlainTextResponse:
        who = request.scope["state"]["principal"]
        return PlainTextResponse(f"{who.name} {who.role} {who.via}")

    routes = [
        *gate.sign_in_routes,
        Route("/", whoever),
        Route("/incident", whoever),
        Route("/api/v1/x", whoever),
    ]
    return Starlette(routes=routes, middleware=[Middleware(gate.Gate)])


@pytest.fixture
def gated(secrets_file, tmp_path, monkeypatch):
    """The gate with OIDC_PROVIDER=corp (ann is an analyst; no one else gets in) and no password."""
    for name, value in {
        "STORAGE_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "APP_PASSWORD": "",
        "API_TOKEN": "",
        "APP_USERS": "",
        "OIDC_PROVIDER": "corp",
        "OIDC_ANALYSTS": "ann@corp.example",
        "OIDC_VIEWERS": "",
        "OIDC_DEFAULT_ROLE": "none",
        "UI_LANGUAGE": "en",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _ask(*requests: tuple[str, str, dict]) -> list[httpx.Response]:
    """(method, path, cookies) through the gate, in order."""

    async def run():
        transport = httpx.ASGITransport(app=_app())
        async with httpx.AsyncClient(transport=transport, base_url="https://sigma.example.org") as client:
            answers = []
            for method, path, cookies in requests:
                client.cookies.clear()
                client.cookies.update(cookies)
                answers.append(await client.request(method, path, headers=PAGE))
            return answers

    return asyncio.run(run())


def test_back_from_the_provider_the_gate_issues_sigmas_session_and_audits_it(gated, monkeypatch):
    identity = {USER_COOKIE_NAME: _identity(email="Ann@corp.example", name="Ann Smith")}
    page, api = _ask(("GET", "/incident?id=3", identity), ("GET", "/api/v1/x", identity))
    assert page.status_code == 303 and page.headers["location"] == "/incident?id=3"
    settings = get_settings()
    session = principal_for_session(page.cookies["sigma_session"], settings)
    assert session.model_dump() == {"name": "ann@corp.example", "role": "analyst", "via": "oidc"}
    assert api.status_code == 200 and api.text == "ann@corp.example analyst oidc"
    (signed_in,) = trail_of(settings)
    assert (signed_in.actor, signed_in.action, signed_in.details) == (
        "ann@corp.example",
        "sign in",
        {"where": "identity provider"},
    )
    (opened,) = _ask(("GET", "/incident?id=3", {"sigma_session": page.cookies["sigma_session"]}))
    assert opened.text == "ann@corp.example analyst oidc"

    # a changed role ends the session (she signs in again and gets the new one)
    monkeypatch.setenv("OIDC_ANALYSTS", "")
    monkeypatch.setenv("OIDC_VIEWERS", "ann@corp.example")
    get_settings.cache_clear()
    assert principal_for_session(page.cookies["sigma_session"], get_settings()) is None


@pytest.mark.parametrize(
    "cookie",
    [
        create_signed_value("another secret of thirty-two characters!", USER_COOKIE_NAME,
                            json.dumps({"origin": ORIGIN, "is_logged_in": True, "email": "ann@corp.example"})).decode(),
        _identity(email="ann@corp.example", origin="https://elsewhere.example"),
        _identity(email="ann@corp.example", email_verified=False),
        _identity(email="ann@corp.example", is_logged_in=False),
        _identity(name="no address"),
    ],
    ids=["forged", "another origin", "unverified address", "logged out", "no address"],
)  # fmt: skip
def test_no_other_identity_cookie_gets_in(gated, cookie):
    page, api = _ask(
        ("GET", "/incident?id=3", {USER_COOKIE_NAME: cookie}),
        ("GET", "/api/v1/x", {USER_COOKIE_NAME: cookie}),
    )
    assert page.status_code == 303 and page.headers["location"].startswith("/signin?next=")
    assert "sigma_session" not in page.cookies and api.status_code == 401


def test_an_address_without_a_role_is_told_so_and_audited(gated):
    identity = {USER_COOKIE_NAME: _identity(email="eve@else.example")}
    page, form = _ask(("GET", "/", identity), ("GET", "/signin", identity))
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    assert form.status_code == 403 and "eve@else.example has no access to Sigma" in form.text
    assert [(e.actor, e.action, e.target) for e in trail_of(get_settings())] == [
        ("anonymous", "failed login", "eve@else.example")
    ]


def test_the_form_offers_the_provider_and_signing_out_ends_both(gated):
    form, start, out = _ask(
        ("GET", "/signin?next=%2Fincident%3Fid%3D3", {}),
        ("GET", "/signin/oidc?next=%2Fincident%3Fid%3D3", {}),
        ("GET", "/signout", {}),
    )
    assert 'href="/signin/oidc?next=%2Fincident%3Fid%3D3">Sign in with corp</a>' in form.text
    assert start.status_code == 303 and start.headers["location"].startswith("/auth/login?provider=")
    assert start.cookies["sigma_next"] == "%2Fincident%3Fid%3D3"
    assert out.headers["location"] == "/auth/logout" and 'sigma_session=""' in out.headers["set-cookie"]
    (back,) = _ask(
        (
            "GET",
            "/",
            {USER_COOKIE_NAME: _identity(email="ann@corp.example"), "sigma_next": "%2Fincident%3Fid%3D3"},
        )
    )
    assert back.headers["location"] == "/incident?id=3", "the deep link survives the provider's round trip"


def test_without_oidc_the_provider_routes_stay_behind_the_gate(gated, monkeypatch):
    monkeypatch.setenv("OIDC_PROVIDER", "")
    monkeypatch.setenv("APP_PASSWORD", "pw")
    get_settings.cache_clear()
    form, start = _ask(("GET", "/signin", {}), ("GET", "/signin/oidc", {}))
    assert "Sign in with" not in form.text
    assert start.status_code == 303 and start.headers["location"].startswith("/signin?next=")


def _page():
    import streamlit as st

    from dashboard.auth import account_box, require_principal

    who = require_principal()
    account_box(who)
    st.write(f"incident list for {who.name} ({who.role})")


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    yield from configured_app(tmp_path, monkeypatch)


def test_the_dashboard_takes_the_person_from_st_user(app_settings, monkeypatch):
    monkeypatch.setenv("OIDC_PROVIDER", "corp")
    monkeypatch.setenv("OIDC_ANALYSTS", "ann@corp.example")
    get_settings.cache_clear()
    app = AppTest.from_function(_page, default_timeout=30)
    app.user = {"is_logged_in": True, "email": "Ann@corp.example", "name": "Ann Smith"}
    app.run()
    assert [m.value for m in app.markdown] == ["incident list for ann@corp.example (analyst)"]
    assert [c.value for c in app.sidebar.caption] == ["Signed in as Ann Smith (ann@corp.example)"]
    app.user = {"is_logged_in": False}
    app.run()
    assert not [m for m in app.markdown if "incident list" in m.value], "signed out: nothing draws"
