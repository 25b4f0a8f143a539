"""Accounts and sign-in: the limiter's back-off per (name, address), atomic counting of simultaneous guesses,
and session versions that end every copy of a session cookie (sign-out, new password, disabled account).

The limiter is tested on its own with a hand-moved clock; sign-in and sessions through the app's Flask test
client (each client is a browser with its own cookies, ``REMOTE_ADDR`` its address), on both databases.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from indicators import db, users
from indicators.users import SignInLimiter

from .support import invoke

HOME, OTHER, ATTACKER = "10.0.0.1", "10.0.0.2", "203.0.113.66"
PASSWORD, NEW_PASSWORD = "correct horse battery", "another long password"
SITE = "http://localhost"  # the test client's own origin


class Clock:
    """Stands in for ``time`` in ``indicators.users``: the test moves the clock by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(users, "time", fake)
    return fake


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def make_limiter(request, tmp_path) -> Callable[..., SignInLimiter]:
    """Makes limiters that count in this process's memory, or in a migrated database (SQLite, PostgreSQL) as
    the web app's does; the back-off is the same either way."""
    if request.param == "memory":
        return SignInLimiter
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
        request.addfinalizer(lambda: server.drop_database(url))
    engine = db.make_engine(url)
    request.addfinalizer(engine.dispose)
    db.migrate(engine)
    return lambda **settings: SignInLimiter(**settings, engine=lambda: engine)


def fail(limiter: SignInLimiter, name: str, address: str = HOME, times: int = 1) -> None:
    """``times`` attempts that are allowed and fail (a reservation not taken back)."""
    for _ in range(times):
        assert limiter.reserve(name, address) == 0


# The back-off: failures of one (name, address) so far -> seconds its next attempt waits after the last one.
BACKOFF = [
    (0, 0), (4, 0),          # five free attempts
    (5, 1), (6, 2), (7, 4),  # then 1, 2, 4 … s
    (12, 128), (13, 256),
    (14, 300), (40, 300),    # up to the cap of 5 minutes
]


@pytest.mark.parametrize(("failures", "wait"), BACKOFF)
def test_the_wait_doubles_after_five_failures_up_to_a_cap(clock, failures, wait, make_limiter):
    limiter = make_limiter()
    for _ in range(failures):
        clock.now += limiter.wait("alice", HOME)  # each attempt as soon as it may
        fail(limiter, "alice")
    assert limiter.wait("alice", HOME) == wait
    if wait:
        clock.now += wait - 0.5
        assert limiter.reserve("alice", HOME) > 0  # half a second early: refused
        clock.now += 0.5
    assert limiter.reserve("alice", HOME) == 0  # on time: allowed


def test_a_refused_attempt_is_not_counted_and_says_how_long_to_wait(clock, make_limiter):
    limiter = make_limiter()
    fail(limiter, "alice", times=5)
    clock.now += 1
    fail(limiter, "alice")  # the sixth failure
    clock.now += 0.25
    assert limiter.reserve("alice", HOME) == 2  # 2 s after the sixth: 1.75 s to go, said as 2
    assert limiter.reserve("alice", HOME) == 2  # refusing does not make it longer
    clock.now += 1.75
    assert limiter.reserve("alice", HOME) == 0


def test_the_owner_at_another_address_is_not_slowed_by_an_attacker(clock, make_limiter):
    limiter = make_limiter()
    fail(limiter, "alice", ATTACKER, times=5)
    assert limiter.reserve("alice", ATTACKER) == 1
    assert limiter.wait("alice", HOME) == 0 and limiter.reserve("alice", HOME) == 0
    limiter.succeeded("alice", HOME)
    assert limiter.wait("alice", ATTACKER) == 1  # the owner's success does not free the attacker


def test_an_address_trying_many_names_is_slowed_for_every_name(clock, make_limiter):
    limiter = make_limiter()
    for i in range(limiter.address_free):
        fail(limiter, f"user{i}", ATTACKER)
    assert limiter.wait("admin", ATTACKER) == 1  # a name it has not tried yet
    assert limiter.wait("admin", HOME) == 0


def test_a_success_forgives_the_pair_and_the_attempt_it_reserved(clock, make_limiter):
    limiter = make_limiter(address_free=9)
    fail(limiter, "alice", times=4)
    assert limiter.reserve("alice", HOME) == 0
    limiter.succeeded("alice", HOME)
    fail(limiter, "alice", times=4)
    assert limiter.wait("alice", HOME) == 0  # four since the success
    assert limiter.wait("bob", HOME) == 0  # eight failures from the address: the success is not one
    fail(limiter, "bob")
    assert limiter.wait("carol", HOME) == 1  # nine


def test_failures_are_forgotten_after_an_hour_without_one(clock, make_limiter):
    limiter = make_limiter()
    fail(limiter, "alice", times=5)
    clock.now += limiter.forget
    assert limiter.wait("alice", HOME) == 0  # waited out (1 s), though not forgotten yet
    fail(limiter, "alice")
    assert limiter.wait("alice", HOME) == 2
    clock.now += limiter.forget + 0.1
    assert limiter.wait("alice", HOME) == 0
    fail(limiter, "alice", times=5)  # counted afresh: five free attempts again


# Session versions, on both databases


def test_sign_out_a_new_password_and_disabling_each_move_the_session_version_on(engine_with_wang):
    engine = engine_with_wang
    first = users.authenticate(engine, "wang", PASSWORD)
    assert first is not None and users.session_account(engine, first.id, first.session_version) == first
    users.end_sessions(engine, "wang")
    users.set_password(engine, "wang", NEW_PASSWORD)
    users.set_active(engine, "wang", False)
    users.set_active(engine, "wang", True)
    now = users.get_account(engine, first.id)
    assert now is not None and now.session_version == first.session_version + 4
    assert users.session_account(engine, first.id, first.session_version) is None
    assert users.session_account(engine, first.id, now.session_version) == now


@pytest.fixture
def engine_with_wang(seeded_engine):
    users.add_user(seeded_engine, "wang", PASSWORD, "editor")
    return seeded_engine


# Sign-in and sessions through the app


@dataclass
class Web:
    app: object  # the Flask server of the Dash app
    env: dict[str, str]  # for the CLI on the same database

    def browser(self, address: str = HOME) -> Browser:
        return Browser(self.app.test_client(), address)  # type: ignore[attr-defined]


@dataclass
class Browser:
    """A Flask test client as a person's browser at ``address``."""

    client: object
    address: str

    def get(self, path: str):
        return self.client.get(path, environ_base={"REMOTE_ADDR": self.address})  # type: ignore[attr-defined]

    def post(self, path: str, **kwargs):
        return self.client.post(path, headers={"Origin": SITE}, environ_base={"REMOTE_ADDR": self.address},
                                **kwargs)  # type: ignore[attr-defined]

    def token(self, path: str = "/login") -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).text).group(1)

    def sign_in(self, name: str, password: str, token: str | None = None):
        return self.post("/login", data={"name": name, "password": password, "csrf_token": token or self.token()})

    def navbar(self) -> str:
        """The navigation bar as the page's callback gives it: it names the signed-in account."""
        payload = {"output": "navbar.children", "outputs": {"id": "navbar", "property": "children"},
                   "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                              {"id": "_pages_location", "property": "search", "value": "?lang=en"}],
                   "changedPropIds": ["_pages_location.pathname"]}
        response = self.post("/_dash-update-component", json=payload)
        assert response.status_code == 200, response.text
        return response.text

    def signed_in_as(self) -> str | None:
        """The account the navigation names (None: it offers to sign in)."""
        account = find(json.loads(self.navbar()), lambda props: props.get("id") == "nav-account")
        return account["children"].split(" · ")[0] if account else None

    def sign_out(self):
        form = find(json.loads(self.navbar()), lambda props: props.get("name") == "csrf_token")
        assert form is not None, "no sign-out form"
        return self.post("/logout", data={"csrf_token": form["value"]})

    def copy_cookies_to(self, other: Browser) -> None:
        session = self.client.get_cookie("session")  # type: ignore[attr-defined]
        other.client.set_cookie("session", session.value)  # type: ignore[attr-defined]


def find(tree, wanted: Callable[[dict], bool]) -> dict | None:
    """The props of the first component in a Dash JSON tree for which ``wanted(props)`` holds."""
    if isinstance(tree, list):
        return next((found for item in tree if (found := find(item, wanted)) is not None), None)
    if not isinstance(tree, dict):
        return None
    if "props" in tree and wanted(tree["props"]):
        return tree["props"]
    return find(list(tree.values()), wanted)


@pytest.fixture
def web(seeded_url, tmp_path, monkeypatch) -> Iterator[Web]:
    """The app on a seeded database of the test's own with the editor ``wang``; a fresh sign-in limiter."""
    import app as shell
    from dashboards import _auth

    env = {"DATABASE_URL": seeded_url, "INNOVATION_MONITOR_INSTANCE": str(tmp_path / "instance")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(_auth, "limiter", SignInLimiter(engine=db.default_engine))
    users.add_user(db.default_engine(), "wang", PASSWORD, "editor")
    yield Web(shell.server, env)
    db.dispose_engines()


def test_forty_simultaneous_guesses_check_at_most_five_passwords(web, clock, monkeypatch):
    checks: list[str] = []
    lock = threading.Lock()
    real_check = users.check_password_hash

    def counted_check(stored: str, password: str) -> bool:
        with lock:
            checks.append(password)
        return real_check(stored, password)

    monkeypatch.setattr(users, "check_password_hash", counted_check)
    browsers = [web.browser(ATTACKER) for _ in range(40)]
    tokens = [b.token() for b in browsers]
    start = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def guess(i: int) -> None:
        start.wait()
        response = browsers[i].sign_in("wang", f"guess {i}", tokens[i])
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checks) == 5  # the clock stands still: the five free attempts, no more
    assert sorted(statuses) == [401] * 5 + [429] * 35


def test_the_owner_signs_in_from_home_while_an_attacker_waits(web, clock):
    attacker, owner = web.browser(ATTACKER), web.browser(HOME)
    for i in range(5):
        assert attacker.sign_in("wang", f"guess {i}").status_code == 401
    refused = attacker.sign_in("wang", PASSWORD)  # even the right password waits
    assert refused.status_code == 429 and "try again in 1 s" in refused.text
    assert owner.sign_in("wang", PASSWORD).status_code == 302
    assert owner.signed_in_as() == "wang" and attacker.signed_in_as() is None
    assert attacker.sign_in("wang", PASSWORD).status_code == 429  # the owner's success frees nobody else


def test_the_owner_gets_in_after_the_wait_even_after_five_typos(web, clock):
    owner = web.browser(HOME)
    for i in range(5):
        assert owner.sign_in("wang", f"typo {i}").status_code == 401
    assert owner.sign_in("wang", PASSWORD).status_code == 429
    clock.now += 1
    assert owner.sign_in("wang", PASSWORD).status_code == 302 and owner.signed_in_as() == "wang"


def _signed_in_with_a_copy(web: Web) -> tuple[Browser, Browser]:
    """wang signed in at home, and an attacker's browser holding a copy of the session cookie."""
    owner, thief = web.browser(HOME), web.browser(ATTACKER)
    assert owner.sign_in("wang", PASSWORD).status_code == 302
    owner.copy_cookies_to(thief)
    assert thief.signed_in_as() == "wang"  # the copy works, until:
    return owner, thief


def test_a_copied_cookie_stops_working_when_its_owner_signs_out(web):
    owner, thief = _signed_in_with_a_copy(web)
    assert owner.sign_out().status_code == 302
    assert owner.signed_in_as() is None and thief.signed_in_as() is None


def test_a_copied_cookie_stops_working_after_users_passwd(web):
    owner, thief = _signed_in_with_a_copy(web)
    invoke("users", "passwd", "wang", "--password-stdin", env=web.env, input=NEW_PASSWORD + "\n", check=True)
    assert thief.signed_in_as() is None and owner.signed_in_as() is None
    assert owner.sign_in("wang", NEW_PASSWORD).status_code == 302 and owner.signed_in_as() == "wang"


def test_a_copied_cookie_stops_working_after_users_disable(web):
    _owner, thief = _signed_in_with_a_copy(web)
    invoke("users", "disable", "wang", env=web.env, check=True)
    assert thief.signed_in_as() is None
    invoke("users", "enable", "wang", env=web.env, check=True)
    assert thief.signed_in_as() is None  # enabling again does not bring old sessions back


def test_sign_out_needs_the_forms_token(web):
    owner = web.browser(HOME)
    owner.sign_in("wang", PASSWORD)
    assert owner.post("/logout", data={}).status_code == 403
    assert owner.post("/logout", data={"csrf_token": "guessed"}).status_code == 403
    owner.get("/logout")  # never a link: a GET (Dash's page for an unknown path) signs nobody out
    assert owner.signed_in_as() == "wang"


def test_a_cookie_from_before_session_versions_signs_nobody_in():
    from dashboards._auth import load_user

    assert load_user("1") is None and load_user("1:x") is None and load_user("") is None


def test_while_the_database_refuses_to_write_failures_are_counted_in_the_process(seeded_engine, clock):
    limiter = SignInLimiter(engine=lambda: seeded_engine)
    fail(limiter, "alice", times=2)  # in the database
    broken = db.make_engine("sqlite:////nonexistent-folder/refuses.sqlite3")
    limiter._counts = users._DatabaseCounts(lambda: broken)  # the database goes away
    fail(limiter, "alice", times=5)  # counted in this process: five free attempts of its own
    assert limiter.reserve("alice", HOME) == 1
    broken.dispose()
