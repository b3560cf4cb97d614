"""Named users: the APP_USERS file, with a role and an Argon2id password hash for each name, or, for an
integration (a script, another system), the SHA-256 of its API token.

`python -m core users add|add-token|remove|list` manages it; `core.access` checks it. The file is
JSON, written atomically (a temporary file, then rename) with owner-only permissions, under a lock so
two administrators adding users at once do not lose one. Only hashes are stored (argon2-cffi's
defaults: Argon2id, 64 MiB, 3 passes), never a password or a token. A token is 256 random bits, shown
once when it is made: a plain SHA-256 of it cannot be reversed or guessed, and checking it costs
microseconds on every API request (Argon2 is for passwords people choose).

Checking a name that is not in the file costs the same as checking one that is: a dummy hash is
verified instead, so the time taken does not tell which names exist.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ValidationError

from core.config import USER_NAME_PATTERN
from core.errors import InvalidInput

USER_NAME = re.compile(USER_NAME_PATTERN)
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "sigma_"  # recognisable in a secrets scanner or a leaked config
_FORMAT = "sigma-users/1"
_hasher = PasswordHasher()


class User(BaseModel):
    """A person (a password hash) or an integration (a token hash); never both."""

    name: str
    role: str
    password_hash: str = ""
    token_hash: str = ""
    added_at: str = ""

    @property
    def kind(self) -> str:
        return "token" if self.token_hash else "password"


class UserView(BaseModel):
    """What `users list` shows: never a hash."""

    name: str
    role: str
    kind: str = "password"
    added_at: str


def _view(user: User) -> UserView:
    return UserView(name=user.name, role=user.role, kind=user.kind, added_at=user.added_at)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def read_users(path: Path) -> dict[str, User]:
    """The users in the file (none when it does not exist yet); `InvalidInput` when it is unreadable.
    Read on every request that carries a session or a token: the text is read each time, and parsed
    once per distinct content."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise InvalidInput(f"APP_USERS file {path} cannot be read: {error.strerror or error}") from error
    try:
        return dict(_parsed(raw))
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        raise InvalidInput(f"APP_USERS file {path} is not a Sigma users file ({error})") from error


@lru_cache(maxsize=4)
def _parsed(raw: str) -> tuple[tuple[str, User], ...]:
    return tuple((user.name, user) for user in (User.model_validate(e) for e in json.loads(raw)["users"]))


def check_password(path: Path | None, name: str, password: str) -> User | None:
    """The user when `password` is theirs, else None. One Argon2 verification either way (a dummy
    hash for an unknown name or an unreadable file), so timing does not reveal which names exist."""
    try:
        user = read_users(path).get(name) if path else None
    except InvalidInput:
        user = None  # fail closed; `users list` says what is wrong with the file
    known = user is not None and bool(user.password_hash)  # an integration has no password
    try:
        _hasher.verify(user.password_hash if known else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user if known else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_token(path: Path | None, token: str) -> User | None:
    """The integration whose token this is, else None. Every stored hash is compared (constant time
    each), so the time taken does not depend on which one matched."""
    try:
        users = read_users(path) if path else {}
    except InvalidInput:
        return None  # fail closed, as for passwords
    digest = _token_hash(token)
    found = None
    for user in users.values():
        if user.token_hash and hmac.compare_digest(user.token_hash, digest):
            found = user
    return found


def validate_name(name: str) -> str:
    """A name the audit trail can tell apart: the pattern, and none of the names Sigma gives itself."""
    from core.access import RESERVED_NAMES

    if not USER_NAME.fullmatch(name or ""):
        raise InvalidInput(
            f"user name {name!r} is not allowed: 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    if name in RESERVED_NAMES:
        raise InvalidInput(f"user name {name!r} is Sigma's own (the audit trail uses it): choose another")
    return name


def _check_role(role: str) -> None:
    from core.access import ROLES

    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use {' or '.join(ROLES)}")


def add_user(path: Path, name: str, password: str, role: str, *, replace: bool = False) -> UserView:
    """Add (or with `replace`, change) a user; `InvalidInput` for a bad name, role or password."""
    validate_name(name)
    _check_role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    with _locked(path):
        users = read_users(path)
        if name in users and not replace:
            raise InvalidInput(f"user {name!r} already exists (remove it first, or add it with --replace)")
        added = datetime.now(UTC).isoformat(timespec="seconds")
        users[name] = User(name=name, role=role, password_hash=_hasher.hash(password), added_at=added)
        _write(path, users)
    return _view(users[name])


def add_token(path: Path, name: str, role: str, *, replace: bool = False) -> tuple[UserView, str]:
    """Add an integration `name` with a new API token (or with `replace`, give it a new one, which ends
    the old). Returns the token: it is stored only as a hash, so this is the one time it is seen."""
    validate_name(name)
    _check_role(role)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with _locked(path):
        users = read_users(path)
        if name in users and not replace:
            raise InvalidInput(f"user {name!r} already exists (remove it first, or add it with --replace)")
        added = datetime.now(UTC).isoformat(timespec="seconds")
        users[name] = User(name=name, role=role, token_hash=_token_hash(token), added_at=added)
        _write(path, users)
    return _view(users[name]), token


def remove_user(path: Path, name: str) -> None:
    with _locked(path):
        users = read_users(path)
        if name not in users:
            raise InvalidInput(f"no user {name!r} in {path}")
        del users[name]
        _write(path, users)


def list_users(path: Path) -> list[UserView]:
    return [_view(u) for u in sorted(read_users(path).values(), key=lambda u: u.name)]


@contextmanager
def _locked(path: Path):
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path.touch(exist_ok=True)
    except OSError as error:
        raise InvalidInput(f"APP_USERS file {path} cannot be written: {error.strerror or error}") from error
    with open(lock_path, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _write(path: Path, users: dict[str, User]) -> None:
    data = {
        "format": _FORMAT,
        "users": [u.model_dump(exclude_defaults=True) for u in sorted(users.values(), key=lambda u: u.name)],
    }
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
