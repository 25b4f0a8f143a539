"""Accounts: who may sign in and with which role, passwords stored hashed, failed sign-ins limited.

What belongs here: creating and checking accounts (werkzeug's scrypt password hashing, no hand-made
crypto), the roles and what they may do, and the sign-in rate limiter. Not here: web sessions and pages
(``dashboards/_auth.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import Engine
from werkzeug.security import check_password_hash, generate_password_hash

from indicators import queries, store
from indicators.i18n import BilingualError, Text

ROLES = ("viewer", "editor", "admin")
EDIT_ROLES = ("editor", "admin")
MIN_PASSWORD_LENGTH = 10

security_log = logging.getLogger("innovation_monitor.security")

UNKNOWN_ROLE = Text("未知角色:{role}(可选:{roles})", "unknown role: {role} ({roles})")
EMPTY_NAME = Text("用户名不能为空", "the name is empty")
SHORT_PASSWORD = Text("密码至少{n}个字符", "the password needs at least {n} characters")
USER_EXISTS = Text("用户已存在:{name}", "the user exists already: {name}")
NO_SUCH_USER = Text("没有该用户:{name}", "no such user: {name}")


class AccountError(BilingualError, ValueError):
    """A user-management request that cannot be done."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str

    @property
    def can_edit(self) -> bool:
        return self.role in EDIT_ROLES


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(SHORT_PASSWORD.format(n=MIN_PASSWORD_LENGTH))


def add_user(engine: Engine, name: str, password: str, role: str) -> Account:
    name = name.strip()
    if role not in ROLES:
        raise AccountError(UNKNOWN_ROLE.format(role=role, roles=", ".join(ROLES)))
    if not name:
        raise AccountError(EMPTY_NAME)
    _check_password(password)
    with engine.begin() as conn:
        user_id = store.add_user(conn, name, generate_password_hash(password), role)
    if user_id is None:
        raise AccountError(USER_EXISTS.format(name=name))
    security_log.info("user added: %s (%s)", name, role)
    return Account(user_id, name, role)


def set_password(engine: Engine, name: str, password: str) -> None:
    _check_password(password)
    with engine.begin() as conn:
        done = store.update_user(conn, name, password_hash=generate_password_hash(password))
    if not done:
        raise AccountError(NO_SUCH_USER.format(name=name))
    security_log.info("password changed: %s", name)


def set_active(engine: Engine, name: str, active: bool) -> None:
    with engine.begin() as conn:
        done = store.update_user(conn, name, active=active)
    if not done:
        raise AccountError(NO_SUCH_USER.format(name=name))
    security_log.info("user %s: %s", "enabled" if active else "disabled", name)


def get_account(engine: Engine, user_id: int) -> Account | None:
    row = queries.user_by_id(engine, user_id)
    return Account(*row) if row else None


def authenticate(engine: Engine, name: str, password: str) -> Account | None:
    """The account if the name and password match an active user; None otherwise (same time either way)."""
    row = queries.credentials(engine, name.strip())
    # check a hash even for unknown names, so the answer's timing does not tell which names exist
    stored = row.password_hash if row else _DUMMY_HASH
    ok = check_password_hash(stored, password)
    return Account(row.id, row.name, row.role) if row and ok else None


_DUMMY_HASH = generate_password_hash("not a password of anyone")


class SignInLimiter:
    """At most ``limit`` failed sign-ins per name, and ``address_limit`` per address, within ``window`` s."""

    def __init__(self, limit: int = 5, window: float = 900.0, address_limit: int = 20):
        self.limit, self.window, self.address_limit = limit, window, address_limit
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, name: str, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return (len(self._recent(f"n:{name}", now)) >= self.limit
                    or len(self._recent(f"a:{address}", now)) >= self.address_limit)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"n:{name}", f"a:{address}"):
                self._recent(key, now).append(now)
        security_log.warning("failed sign-in for %r from %s", name, address)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"n:{name}", None)
