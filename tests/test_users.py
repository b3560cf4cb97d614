"""Named users (APP_USERS): the users file and its CLI, sign-in that never says whether the name or the
password was wrong (and costs the same either way), failed sign-ins in the audit trail, the dashboard's
sign-in with a name."""

from __future__ import annotations

import io
import json
import stat

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError

from core import users
from core.access import (
    authenticate,
    gate_enabled,
    issue_session,
    principal_for_session,
    principal_for_token,
    record_sign_in,
    session_credential,
    sign_in,
)
from core.cli import main as cli_main
from core.config import Settings, get_settings
from core.errors import InvalidInput
from core.evidence.audit import trail_of


class _CountingHasher:
    """A cheap Argon2id hasher for tests (the cost parameters are not what is tested) that counts
    the verifications it does."""

    def __init__(self) -> None:
        self.real = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []

    def hash(self, password: str) -> str:
        return self.real.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return self.real.verify(password_hash, password)


@pytest.fixture(autouse=True)
def hasher(monkeypatch):
    counting = _CountingHasher()
    monkeypatch.setattr(users, "_hasher", counting)
    users._dummy_hash.cache_clear()
    yield counting
    users._dummy_hash.cache_clear()


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.json"
    users.add_user(path, "alice", "correct horse battery", "analyst")
    users.add_user(path, "vera", "viewer's own secret", "viewer")
    return path


def test_the_users_file_keeps_hashes_only_owner_readable(users_file):
    raw = users_file.read_text()
    assert "correct horse" not in raw and "$argon2id$" in raw
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    assert [(u.name, u.role) for u in users.list_users(users_file)] == [
        ("alice", "analyst"),
        ("vera", "viewer"),
    ]
    with pytest.raises(InvalidInput, match="already exists"):
        users.add_user(users_file, "alice", "another password", "viewer")
    users.add_user(users_file, "alice", "another password", "viewer", replace=True)
    assert users.check_password(users_file, "alice", "another password").role == "viewer"
    for name, password, role, problem in (
        ("../etc", "long enough pw", "analyst", "is not allowed"),
        ("bob", "short", "analyst", "at least 8 characters"),
        ("bob", "long enough pw", "admin", "unknown role 'admin'"),
    ):
        with pytest.raises(InvalidInput, match=problem):
            users.add_user(users_file, name, password, role)
    users.remove_user(users_file, "vera")
    with pytest.raises(InvalidInput, match="no user 'vera'"):
        users.remove_user(users_file, "vera")


def test_a_named_user_signs_in_with_their_role_and_failures_do_not_say_why(users_file, tmp_path, hasher):
    settings = Settings(
        _env_file=None, storage_dir=tmp_path / "data", app_users=users_file, app_password="shared pw"
    )
    assert gate_enabled(Settings(_env_file=None, app_users=users_file))
    vera = authenticate("vera", "viewer's own secret", settings)
    assert (vera.name, vera.role, vera.can_change) == ("vera", "viewer", False)
    assert authenticate(" alice ", "correct horse battery", settings).role == "analyst"
    assert authenticate(None, "shared pw", settings).name == "shared-password"  # no name: the shared one

    verified = hasher.verified
    verified.clear()
    assert authenticate("alice", "wrong password", settings) is None
    assert authenticate("nobody", "correct horse battery", settings) is None
    assert authenticate("alice", "shared pw", settings) is None  # a name never falls back to the shared one
    assert len(verified) == 3 and len(set(verified)) == 2  # one Argon2 check each; a dummy for "nobody"

    users_file.write_text("{broken")
    assert authenticate("alice", "correct horse battery", settings) is None  # a broken file fails closed
    assert len(verified) == 4


def test_a_session_ends_when_its_user_is_removed_or_changed(users_file, tmp_path):
    settings = Settings(
        _env_file=None, storage_dir=tmp_path / "data", app_users=users_file, app_password="pw"
    )
    vera = authenticate("vera", "viewer's own secret", settings)
    before = session_credential(vera, settings)
    assert before and session_credential(authenticate(None, "pw", settings), settings) == "pw"
    users.add_user(users_file, "vera", "a new password", "viewer", replace=True)
    changed = session_credential(vera, settings)
    assert changed and changed != before  # a new password: the old session's stamp no longer matches
    users.add_user(users_file, "vera", "a new password", "analyst", replace=True)
    assert session_credential(vera, settings) == ""  # the role the session holds is not hers any more
    users.remove_user(users_file, "vera")
    assert session_credential(vera, settings) == ""


def test_sign_in_records_who_and_failed_logins_without_the_password(db_settings, users_file):
    settings = db_settings.model_copy(update={"app_users": users_file})

    def sign_in(name, password, **where):
        return record_sign_in(settings, name, authenticate(name, password, settings), **where)

    assert sign_in("alice", "correct horse battery", where="api").name == "alice"
    assert sign_in("alice", "Tr0ub4dor&3") is None
    assert sign_in("mallory", "Tr0ub4dor&3") is None
    entries = trail_of(settings)
    assert [(e.actor, e.action, e.target, e.details) for e in entries] == [
        ("alice", "sign in", "alice", {"where": "api"}),
        ("anonymous", "failed login", "alice", {"where": "dashboard"}),
        ("anonymous", "failed login", "mallory", {"where": "dashboard"}),
    ]
    assert "Tr0ub4dor" not in json.dumps([e.model_dump(mode="json") for e in entries])


def test_the_cli_adds_lists_and_removes_users_and_audits_it(settings, tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.json"
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.setenv("APP_USERS", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
        assert cli_main(["users", "add", "vera", "--role", "viewer", "--password-stdin"]) == 0
        assert capsys.readouterr().out.strip() == "added vera (viewer)"
        assert cli_main(["users", "list", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [(u["name"], u["role"]) for u in listed] == [("vera", "viewer")] and "hash" not in str(listed)
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        assert cli_main(["users", "add", "bob", "--role", "analyst", "--password-stdin"]) == 2
        assert "at least 8 characters" in capsys.readouterr().err
        assert cli_main(["users", "remove", "vera"]) == 0
        assert cli_main(["users", "list"]) == 0
        assert users.list_users(path) == []
        monkeypatch.delenv("APP_USERS")
        get_settings.cache_clear()
        capsys.readouterr()
        assert cli_main(["users", "list"]) == 2
        assert capsys.readouterr().err.startswith("error: APP_USERS is not set")
    finally:
        get_settings.cache_clear()
    assert [(e.action, e.target) for e in trail_of(settings)] == [
        ("add user", "user vera"),
        ("remove user", "user vera"),
    ]


def test_api_token_acts_as_its_named_service_user(tmp_path):
    settings = Settings(_env_file=None, storage_dir=tmp_path / "data", api_token="the api token 123")
    assert principal_for_token("the api token 123", settings).model_dump() == {
        "name": "api",
        "role": "analyst",
        "via": "token",
    }
    named = settings.model_copy(update={"api_token_user": "ci-pipeline"})
    assert principal_for_token("the api token 123", named).name == "ci-pipeline"
    assert principal_for_token("the api token 12", named) is None
    for bad in ("", "two words", "../x"):
        with pytest.raises(ValidationError, match="api_token_user"):
            Settings(_env_file=None, api_token_user=bad)


def test_an_integration_token_is_shown_once_stored_hashed_and_ends_with_its_user(users_file, tmp_path):
    settings = Settings(_env_file=None, storage_dir=tmp_path / "data", app_users=users_file)
    view, token = users.add_token(users_file, "ingest-bot", "analyst")
    _, reader_token = users.add_token(users_file, "wall-screen", "viewer")
    assert token.startswith("sigma_") and len(token) > 40 and token != reader_token
    raw = users_file.read_text()
    assert token not in raw and reader_token not in raw
    assert (view.name, view.kind) == ("ingest-bot", "token")
    assert [(u.name, u.kind) for u in users.list_users(users_file)] == [
        ("alice", "password"),
        ("ingest-bot", "token"),
        ("vera", "password"),
        ("wall-screen", "token"),
    ]
    bot = principal_for_token(token, settings)
    assert (bot.name, bot.role, bot.via) == ("ingest-bot", "analyst", "token")
    assert principal_for_token(reader_token, settings).role == "viewer"
    assert principal_for_token(token[:-1], settings) is None and principal_for_token("", settings) is None
    assert authenticate("ingest-bot", token, settings) is None, "an integration has no password"
    assert sign_in(None, token, settings) == bot  # the token typed on the sign-in form

    cookie = issue_session(bot, settings)
    assert principal_for_session(cookie, settings) == bot
    _, new_token = users.add_token(users_file, "ingest-bot", "analyst", replace=True)
    assert principal_for_token(token, settings) is None, "a new token ends the old one"
    assert principal_for_session(cookie, settings) is None, "and the sessions opened with it"
    users.remove_user(users_file, "ingest-bot")
    assert principal_for_token(new_token, settings) is None
    with pytest.raises(InvalidInput, match="already exists"):
        users.add_token(users_file, "alice", "viewer")


@pytest.mark.parametrize("name", ["system", "local", "anonymous", "unattributed", "shared-password"])
def test_sigmas_own_names_cannot_be_taken(users_file, name):
    with pytest.raises(InvalidInput, match="is Sigma's own"):
        users.add_user(users_file, name, "long enough pw", "analyst")
    with pytest.raises(InvalidInput, match="is Sigma's own"):
        users.add_token(users_file, name, "analyst")


def test_the_cli_adds_a_token_prints_it_once_and_keeps_api_tokens_name_free(
    settings, tmp_path, monkeypatch, capsys
):
    path = tmp_path / "users.json"
    monkeypatch.setenv("STORAGE_DIR", str(settings.storage_dir))
    monkeypatch.setenv("APP_USERS", str(path))
    monkeypatch.setenv("API_TOKEN_USER", "ci")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert cli_main(["users", "add-token", "ingest-bot", "--role", "analyst"]) == 0
        printed = capsys.readouterr().out.strip().splitlines()
        assert printed[0] == "added ingest-bot (analyst)"
        token = printed[-1]
        assert users.check_token(path, token).name == "ingest-bot" and token not in path.read_text()
        assert cli_main(["users", "list"]) == 0
        assert capsys.readouterr().out.split()[:3] == ["ingest-bot", "analyst", "token"]
        assert cli_main(["users", "add-token", "ci", "--role", "viewer"]) == 2
        assert "API_TOKEN's service user" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    assert [(e.action, e.target, e.details) for e in trail_of(settings)] == [
        ("add user", "user ingest-bot", {"role": "analyst", "kind": "token", "replaced": False}),
    ]


def test_the_sign_in_form_answers_a_wrong_password_and_an_unknown_name_alike(
    users_file, tmp_path, monkeypatch
):
    """Byte for byte the same page (but the name typed, echoed in its field) and the same trail entry."""
    import asyncio

    import httpx
    from starlette.applications import Starlette

    from api import gate

    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("APP_USERS", str(users_file))
    monkeypatch.setenv("APP_PASSWORD", "")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(gate, "guesses", gate.GuessLimiter())
    get_settings.cache_clear()

    async def attempts():
        transport = httpx.ASGITransport(app=Starlette(routes=gate.sign_in_routes))
        async with httpx.AsyncClient(transport=transport, base_url="http://sigma") as client:

            async def attempt(name: str, password: str):
                form = {"name": name, "password": password, "next": "/"}
                return await client.post("/signin?lang=en", data=form)

            # two names of one length, so even the page's length cannot differ
            answers = [
                await attempt("alice", "not her password"),
                await attempt("carol", "correct horse battery"),
            ]
            assert (await attempt("alice", "correct horse battery")).status_code == 303  # the form does work
            return answers

    try:
        wrong_password, unknown_name = asyncio.run(attempts())
        settings = get_settings()
    finally:
        get_settings.cache_clear()
    assert wrong_password.status_code == unknown_name.status_code == 401
    assert "Wrong name or password." in wrong_password.text
    assert wrong_password.text.replace('value="alice"', "") == unknown_name.text.replace('value="carol"', "")
    assert dict(wrong_password.headers) == dict(unknown_name.headers)
    failed = [(e.actor, e.action, e.details) for e in trail_of(settings) if e.action == "failed login"]
    assert failed == [("anonymous", "failed login", {"where": "sign-in form"})] * 2
