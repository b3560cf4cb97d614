"""Named users: the APP_USERS file, with a role and an Argon2id password hash for each name.

`python -m core users add|remove|list` manages it; `core.access.authenticate` checks it. The file is
JSON, written atomically (a temporary file, then rename) with owner-only permissions, under a lock so
two administrators adding users at once do not lose one. Only hashes are stored (argon2-cffi's
defaults: Argon2id, 64 MiB, 3 passes), never a password.

Checking a name that is not in the file costs the same as checking one that is: a dummy hash is
verified instead, so the time taken does not tell which names exist.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ValidationError

from core.errors import InvalidInput

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD_LENGTH = 8
_FORMAT = "sigma-users/1"
_hasher = PasswordHasher()


class User(BaseModel):
    name: str
    role: str
    password_hash: str
    added_at: str = ""


class UserView(BaseModel):
    """What `users list` shows: never the hash."""

    name: str
    role: str
    added_at: str


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def read_users(path: Path) -> dict[str, User]:
    """The users in the file (none when it does not exist yet); `InvalidInput` when it is unreadable."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise InvalidInput(f"APP_USERS file {path} cannot be read: {error.strerror or error}") from error
    try:
        data = json.loads(raw)
        users = [User.model_validate(entry) for entry in data["users"]]
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        raise InvalidInput(f"APP_USERS file {path} is not a Sigma users file ({error})") from error
    return {user.name: user for user in users}


def check_password(path: Path | None, name: str, password: str) -> User | None:
    """The user when `password` is theirs, else None. One Argon2 verification either way (a dummy
    hash for an unknown name or an unreadable file), so timing does not reveal which names exist."""
    try:
        user = read_users(path).get(name) if path else None
    except InvalidInput:
        user = None  # fail closed; `users list` says what is wrong with the file
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def validate_name(name: str) -> str:
    if not USER_NAME.fullmatch(name or ""):
        raise InvalidInput(
            f"user name {name!r} is not allowed: 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


def add_user(path: Path, name: str, password: str, role: str, *, replace: bool = False) -> UserView:
    """Add (or with `replace`, change) a user; `InvalidInput` for a bad name, role or password."""
    from core.access import ROLES

    validate_name(name)
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use {' or '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    with _locked(path):
        users = read_users(path)
        if name in users and not replace:
            raise InvalidInput(f"user {name!r} already exists (remove it first, or add it with --replace)")
        added = datetime.now(UTC).isoformat(timespec="seconds")
        users[name] = User(name=name, role=role, password_hash=_hasher.hash(password), added_at=added)
        _write(path, users)
    return UserView(name=name, role=role, added_at=added)


def remove_user(path: Path, name: str) -> None:
    with _locked(path):
        users = read_users(path)
        if name not in users:
            raise InvalidInput(f"no user {name!r} in {path}")
        del users[name]
        _write(path, users)


def list_users(path: Path) -> list[UserView]:
    return [
        UserView(name=u.name, role=u.role, added_at=u.added_at)
        for u in sorted(read_users(path).values(), key=lambda u: u.name)
    ]


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
        "users": [u.model_dump() for u in sorted(users.values(), key=lambda u: u.name)],
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
