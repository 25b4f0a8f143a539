"""Accounts: who may sign in and with which role, passwords stored hashed, failed sign-ins slowed down.

What belongs here: creating and checking accounts (werkzeug's scrypt password hashing, no hand-made
crypto), the roles and what they may do, each account's session version (every session cookie carries it;
sign-out, a new password and disabling the account add one, which ends every session of that account), and
the sign-in limiter. Not here: web sessions and pages (``dashboards/_auth.py``).

An editor may be scoped to one agency of the catalog (``agency``): it then commits and reverts only the
indicators that agency owns, and sets the status only of the tasks the agency leads or shares. Every writing
path checks it on the server: :func:`may_write` and :func:`may_write_tasks` for the web callbacks, the same
functions in the CLI (``ingest``, ``revert`` and ``tasks`` with ``--user``). An account with no agency is not
scoped. The CLI without ``--user`` runs as an operator of the machine (it holds the database itself), as before.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash, generate_password_hash

from indicators import db, queries, store
from indicators.i18n import BilingualError, Text
from indicators.models import SignInFailure, User, table_of

if TYPE_CHECKING:
    from indicators.catalog import Catalog

ROLES = ("viewer", "editor", "admin")
EDIT_ROLES = ("editor", "admin")
MIN_PASSWORD_LENGTH = 10

security_log = logging.getLogger("innovation_monitor.security")

UNKNOWN_ROLE = Text("未知角色:{role}(可选:{roles})", "unknown role: {role} ({roles})")
EMPTY_NAME = Text("用户名不能为空", "the name is empty")
SHORT_PASSWORD = Text("密码至少{n}个字符", "the password needs at least {n} characters")
USER_EXISTS = Text("用户已存在:{name}", "the user exists already: {name}")
NO_SUCH_USER = Text("没有该用户:{name}", "no such user: {name}")
UNKNOWN_AGENCY = Text("未知机构:{agency}(可选:{agencies})", "unknown agency: {agency} ({agencies})")
NOT_AN_EDITOR = Text("只有编辑者可以限定机构", "only an editor can be scoped to an agency")
OTHER_AGENCY = Text("账号 {name} 属于“{agency}”,不能修改其他机构的指标:{codes}",
                    "account {name} belongs to '{agency}' and may not change other agencies' indicators: {codes}")


class AccountError(BilingualError, ValueError):
    """A user-management request that cannot be done."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    session_version: int = 0  # as read when the account was loaded; a session must carry the current one
    agency: str | None = None  # scoped to this agency's indicators and tasks (None: not scoped)

    @property
    def can_edit(self) -> bool:
        return self.role in EDIT_ROLES


class ScopeRefused(BilingualError, PermissionError):
    """A scoped editor asked to change what another agency owns."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(SHORT_PASSWORD.format(n=MIN_PASSWORD_LENGTH))


def add_user(engine: Engine, name: str, password: str, role: str, agency: str | None = None,
             catalog: Catalog | None = None) -> Account:
    """A new account; ``agency`` (a code of ``catalog``'s agencies) scopes an editor to what it owns."""
    name = name.strip()
    if role not in ROLES:
        raise AccountError(UNKNOWN_ROLE.format(role=role, roles=", ".join(ROLES)))
    if not name:
        raise AccountError(EMPTY_NAME)
    if agency is not None:
        _check_agency(agency, role, catalog)
    _check_password(password)
    with engine.begin() as conn:
        user_id = store.add_user(conn, name, generate_password_hash(password), role)
        if user_id is not None and agency is not None:
            store.update_user(conn, name, agency=agency)
    if user_id is None:
        raise AccountError(USER_EXISTS.format(name=name))
    security_log.info("user added: %s (%s%s)", name, role, f", agency {agency}" if agency else "")
    return Account(user_id, name, role, agency=agency)


def _check_agency(agency: str, role: str, catalog: Catalog | None) -> None:
    catalog = catalog or _default_catalog()
    if agency not in catalog.agencies:
        raise AccountError(UNKNOWN_AGENCY.format(agency=agency, agencies=", ".join(catalog.agencies)))
    if role != "editor":
        raise AccountError(NOT_AN_EDITOR)


def set_agency(engine: Engine, name: str, agency: str | None, catalog: Catalog | None = None) -> None:
    """Scope an editor to an agency (None: unscope it). Its sessions end, so the new scope applies at once."""
    if agency is not None:
        role = _role(engine, name)
        if role is None:
            raise AccountError(NO_SUCH_USER.format(name=name))
        _check_agency(agency, role, catalog)
    with engine.begin() as conn:
        done = store.update_user(conn, name, agency=agency, session_version=_next_session_version())
    if not done:
        raise AccountError(NO_SUCH_USER.format(name=name))
    security_log.info("user %s scoped to agency %s", name, agency or "(none)")


def _default_catalog() -> Catalog:
    from indicators.snapshot import default_catalog

    return default_catalog()


def _role(engine: Engine, name: str) -> str | None:
    users = table_of(User)
    with engine.connect() as conn:
        return conn.execute(select(users.c.role).where(users.c.name == name)).scalar()


def _agency(engine: Engine, user_id: int) -> str | None:
    """The agency an account is scoped to (read beside the scope it decides, like the session version)."""
    users = table_of(User)
    with engine.connect() as conn:
        return conn.execute(select(users.c.agency).where(users.c.id == user_id)).scalar()


def agencies_by_name(engine: Engine) -> dict[str, str | None]:
    """Each account's agency by account name (None: not scoped), for the list of accounts."""
    users = table_of(User)
    with engine.connect() as conn:
        return {name: agency for name, agency in conn.execute(select(users.c.name, users.c.agency))}


def account_named(engine: Engine, name: str) -> Account | None:
    """The active account called ``name`` with its role and agency, or None (the CLI's ``--user``)."""
    row = queries.credentials(engine, name.strip())
    if row is None:
        return None
    return Account(row.id, row.name, row.role, row.session_version, _agency(engine, row.id))


def may_write(account: Account | None, indicator_codes: Iterable[str], catalog: Catalog | None = None) -> bool:
    """Whether ``account`` may commit or revert values of these indicators: an editor or admin, and, when it
    is scoped to an agency, only indicators that agency owns. Call it in every writing callback."""
    if account is None or not account.can_edit:
        return False
    if account.agency is None:
        return True
    return not refused_indicators(account, indicator_codes, catalog)


def refused_indicators(account: Account, indicator_codes: Iterable[str], catalog: Catalog | None = None) -> list[str]:
    """The indicators among ``indicator_codes`` that a scoped ``account`` may not change, sorted."""
    if account.agency is None:
        return []
    catalog = catalog or _default_catalog()
    owned = set(catalog.owned_by(account.agency))
    return sorted(set(indicator_codes) - owned)


def check_scope(account: Account, indicator_codes: Iterable[str], catalog: Catalog | None = None) -> None:
    """Raise :class:`ScopeRefused` naming the indicators a scoped ``account`` may not change."""
    refused = refused_indicators(account, indicator_codes, catalog)
    if refused:
        raise ScopeRefused(OTHER_AGENCY.format(name=account.name, agency=account.agency, codes=", ".join(refused)))


def batch_indicators(engine: Engine, batch_id: int) -> list[str]:
    """The indicators whose values a batch brought (current or since revised or retracted): what reverting it
    changes, checked against a scoped editor's agency."""
    from indicators.models import Observation, ObservationHistory

    obs, hist = table_of(Observation), table_of(ObservationHistory)
    with engine.connect() as conn:
        codes = set(conn.execute(select(obs.c.indicator_code).where(obs.c.batch_id == batch_id).distinct()).scalars())
        codes |= set(conn.execute(select(hist.c.indicator_code).where(hist.c.batch_id == batch_id).distinct())
                     .scalars())
    return sorted(codes)


def may_write_tasks(account: Account | None, task_ids: Iterable[str], catalog: Catalog | None = None) -> bool:
    """Whether ``account`` may set the status of these tasks: an editor or admin; scoped to an agency, only
    tasks that agency leads or shares."""
    if account is None or not account.can_edit:
        return False
    if account.agency is None:
        return True
    from indicators.tasks import may_set

    catalog = catalog or _default_catalog()
    return all(t in catalog.tasks and may_set(account.agency, catalog.tasks[t]) for t in task_ids)


def _next_session_version():
    """``session_version + 1``, computed by the database: two bumps at once both count."""
    return table_of(User).c.session_version + 1


def set_password(engine: Engine, name: str, password: str) -> None:
    """A new password; every session of the account ends (a copied cookie is worth nothing afterwards)."""
    _check_password(password)
    with engine.begin() as conn:
        done = store.update_user(conn, name, password_hash=generate_password_hash(password),
                                 session_version=_next_session_version())
    if not done:
        raise AccountError(NO_SUCH_USER.format(name=name))
    security_log.info("password changed: %s", name)


def set_active(engine: Engine, name: str, active: bool) -> None:
    """Disable or enable an account; either way its sessions end (a disabled account's also cannot load)."""
    with engine.begin() as conn:
        done = store.update_user(conn, name, active=active, session_version=_next_session_version())
    if not done:
        raise AccountError(NO_SUCH_USER.format(name=name))
    security_log.info("user %s: %s", "enabled" if active else "disabled", name)


def end_sessions(engine: Engine, name: str) -> None:
    """Sign the account out everywhere: every session cookie issued so far stops working."""
    with engine.begin() as conn:
        store.update_user(conn, name, session_version=_next_session_version())
    security_log.info("sessions ended: %s", name)


def get_account(engine: Engine, user_id: int) -> Account | None:
    row = queries.user_by_id(engine, user_id)
    return replace(Account(*row), agency=_agency(engine, user_id)) if row else None


def session_account(engine: Engine, user_id: int, session_version: int) -> Account | None:
    """The active account a session cookie names, if the cookie carries its current session version."""
    account = get_account(engine, user_id)
    return account if account is not None and account.session_version == session_version else None


def authenticate(engine: Engine, name: str, password: str) -> Account | None:
    """The account if the name and password match an active user; None otherwise (same time either way)."""
    row = queries.credentials(engine, name.strip())
    # check a hash even for unknown names, so the answer's timing does not tell which names exist
    stored = row.password_hash if row else _DUMMY_HASH
    ok = check_password_hash(stored, password)
    return Account(row.id, row.name, row.role, row.session_version, _agency(engine, row.id)) if row and ok else None


_DUMMY_HASH = generate_password_hash("not a password of anyone")


LIMITER_LOCK_KEY = 7_411_203  # PostgreSQL advisory lock of sign-in reservations (not the batches' lock)


@dataclass
class _Failures:
    count: int
    last: float  # when the latest of them was reserved (seconds since the epoch: every process reads one clock)


def _limit_key(*parts: str) -> str:
    """The stored key of a (name, address) pair or an address: a digest, of one length whatever a form sent."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class _MemoryCounts:
    """Failure counts in this process's memory: for one process (and the tests of the back-off itself)."""

    def __init__(self) -> None:
        self._records: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def _view(self, keys: list[str], forget_before: float) -> dict[str, _Failures]:
        return {k: replace(r) for k in keys if (r := self._records.get(k)) is not None and r.last >= forget_before}

    @contextmanager
    def holding(self, keys: list[str], forget_before: float) -> Iterator[dict[str, _Failures]]:
        """The records of ``keys``, held alone until the block ends, then stored as the block left them."""
        with self._lock:
            view = self._view(keys, forget_before)
            yield view
            for key in keys:
                if key in view:
                    self._records[key] = view[key]
                else:
                    self._records.pop(key, None)
            if len(self._records) > 100_000:  # many names tried: drop what is forgotten anyway
                for stale in [k for k, r in self._records.items() if r.last < forget_before]:
                    del self._records[stale]


class _DatabaseCounts:
    """Failure counts in the ``sign_in_failures`` table: every server process and host that shares the
    database counts the same failures. A reservation is one transaction that runs alone (SQLite: BEGIN
    IMMEDIATE, waiting at most the busy timeout behind an upload; PostgreSQL: an advisory lock of its own, so
    a sign-in never waits for an upload). Forgotten rows are deleted by the next reservation."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine

    @staticmethod
    def _select(conn, keys: list[str], forget_before: float) -> dict[str, _Failures]:
        rows = conn.execute(select(SignInFailure.key, SignInFailure.count, SignInFailure.last).where(
            SignInFailure.key.in_(keys), SignInFailure.last >= forget_before))
        return {row.key: _Failures(row.count, row.last) for row in rows}

    @contextmanager
    def holding(self, keys: list[str], forget_before: float) -> Iterator[dict[str, _Failures]]:
        with db.writing(self._engine(), lock=LIMITER_LOCK_KEY) as conn:
            conn.execute(delete(SignInFailure).where(SignInFailure.last < forget_before))
            view = self._select(conn, keys, forget_before)
            yield view
            conn.execute(delete(SignInFailure).where(SignInFailure.key.in_(keys)))
            if view:
                conn.execute(insert(SignInFailure), [{"key": k, "count": r.count, "last": r.last}
                                                     for k, r in view.items()])


class SignInLimiter:
    """Failed sign-ins slow down whoever makes them, without locking the account's owner out.

    Failures are counted per (name, address) pair and per address over all names. A pair may fail
    ``free`` times; after that each attempt must wait ``base * 2**k`` seconds after the pair's previous
    one (k = 0, 1, 2 … for each failure beyond ``free``), at most ``cap``; an address likewise after
    ``address_free`` failures. A name is never blocked as such: the owner, at their own address, signs in
    while an attacker elsewhere waits. Counts are forgotten ``forget`` seconds after their last failure,
    and a pair's when it signs in.

    :meth:`reserve` counts the attempt as a failure *before* the password is checked, holding the counts
    alone, so simultaneous guesses cannot all pass between reading the count and writing it;
    :meth:`succeeded` takes the reservation back.

    With ``engine`` (a function giving the engine) the counts live in the database, shared by every server
    process and host (what the web app uses), and in this process's memory while the database refuses to
    write; without, in this process's memory.
    """

    def __init__(self, free: int = 5, base: float = 1.0, cap: float = 300.0, address_free: int = 20,
                 forget: float = 3600.0, *, engine: Callable[[], Engine] | None = None):
        self.free, self.base, self.cap, self.address_free, self.forget = free, base, cap, address_free, forget
        self._counts: _MemoryCounts | _DatabaseCounts = _DatabaseCounts(engine) if engine else _MemoryCounts()
        self._fallback = _MemoryCounts() if engine else None

    def _delay(self, count: int, free: int) -> float:
        """Seconds an attempt must wait after the previous one when ``count`` failures are on record."""
        if count < free:
            return 0.0
        return min(self.cap, self.base * 2 ** min(count - free, 64))

    def _counted(self, name: str, address: str) -> list[tuple[str, int]]:
        """The counts an attempt touches, each with its free failures: its (name, address) and its address."""
        return [(_limit_key("pair", name, address), self.free), (_limit_key("address", address), self.address_free)]

    def _wait(self, records: dict[str, _Failures], counted: list[tuple[str, int]], now: float) -> float:
        longest = 0.0
        for key, free in counted:
            record = records.get(key)
            if record is not None:
                longest = max(longest, record.last + self._delay(record.count, free) - now)
        return longest

    def _apply(self, keys: list[str], now: float, change: Callable[[dict[str, _Failures]], float]) -> float:
        """``change(records)`` on the held records of ``keys``. When the database refuses (read-only, locked
        past the busy timeout, unreachable), the counts of this process stand in, and the log says so: sign-in
        keeps working and guesses stay limited, per process, until the database writes again."""
        try:
            with self._counts.holding(keys, now - self.forget) as records:
                return change(records)
        except SQLAlchemyError as exc:
            if self._fallback is None:
                raise
            security_log.error("failed sign-ins counted in this process only: the database refused (%s)", exc)
            with self._fallback.holding(keys, now - self.forget) as records:
                return change(records)

    def wait(self, name: str, address: str) -> float:
        """Seconds until ``name`` may be tried from ``address`` (0: now)."""
        now, counted = time.time(), self._counted(name, address)
        return self._apply([k for k, _ in counted], now, lambda records: self._wait(records, counted, now))

    def reserve(self, name: str, address: str) -> float:
        """0 if the attempt may check a password now (it is counted as a failure until :meth:`succeeded`);
        otherwise the seconds to wait, and nothing is counted."""
        now, counted = time.time(), self._counted(name, address)

        def count(records: dict[str, _Failures]) -> float:
            wait = self._wait(records, counted, now)
            if wait > 0:
                return math.ceil(wait)
            for key, _free in counted:
                record = records.get(key)
                records[key] = _Failures(1 if record is None else record.count + 1, now)
            return 0.0

        return self._apply([k for k, _ in counted], now, count)

    def succeeded(self, name: str, address: str) -> None:
        """The reserved attempt signed in: the pair starts afresh, and the address is not charged for it."""
        (pair, _), (alone, _) = self._counted(name, address)

        def forgive(records: dict[str, _Failures]) -> float:
            records.pop(pair, None)
            if alone in records:
                records[alone].count = max(0, records[alone].count - 1)
            return 0.0

        self._apply([pair, alone], time.time(), forgive)
