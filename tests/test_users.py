"""The sign-in limiter: failed sign-ins counted per name and per address, within a sliding window."""

from __future__ import annotations

import logging

import pytest

from indicators import users
from indicators.users import SignInLimiter

HOME, OTHER = "10.0.0.1", "10.0.0.2"


class Clock:
    """Stands in for ``time`` in ``indicators.users``: the test moves the monotonic clock by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(users, "time", fake)
    return fake


def fail(limiter: SignInLimiter, name: str, address: str = HOME, times: int = 1) -> None:
    for _ in range(times):
        limiter.failed(name, address)


def test_a_name_is_blocked_once_its_failures_reach_the_limit_from_any_address(clock):
    limiter = SignInLimiter(limit=3, window=60, address_limit=100)
    fail(limiter, "alice", times=2)
    assert not limiter.blocked("alice", HOME)
    fail(limiter, "alice", OTHER)
    assert limiter.blocked("alice", HOME) and limiter.blocked("alice", "10.9.9.9")
    assert not limiter.blocked("bob", HOME)  # per name: someone else may still sign in from there


def test_failures_count_only_within_the_window(clock):
    limiter = SignInLimiter(limit=3, window=60, address_limit=100)
    for _ in range(3):
        fail(limiter, "alice")
        clock.now += 10  # failures at 1000, 1010 and 1020
    clock.now = 1_060.0
    assert limiter.blocked("alice", HOME)  # the first failure is exactly one window old: it still counts
    clock.now = 1_060.5
    assert not limiter.blocked("alice", HOME)
    fail(limiter, "alice")
    assert limiter.blocked("alice", HOME)  # 1010, 1020 and 1060.5


def test_a_success_clears_the_names_failures_but_not_the_addresses(clock):
    limiter = SignInLimiter(limit=3, window=60, address_limit=4)
    fail(limiter, "alice", times=2)
    limiter.succeeded("alice")
    fail(limiter, "alice", times=2)
    assert not limiter.blocked("alice", OTHER)  # two since the success
    assert limiter.blocked("carol", HOME)  # four from HOME, whatever the names
    assert not limiter.blocked("carol", OTHER)


def test_many_names_tried_from_one_address_block_that_address(clock):
    limiter = SignInLimiter()
    for i in range(limiter.address_limit - 1):
        fail(limiter, f"user{i}")
    assert not limiter.blocked("admin", HOME)
    fail(limiter, "another")
    assert limiter.blocked("admin", HOME) and not limiter.blocked("admin", OTHER)


def test_the_defaults_are_what_the_sign_in_page_says(clock):
    limiter = SignInLimiter()
    assert limiter.window == 15 * 60  # "try again in 15 minutes"
    fail(limiter, "alice", times=4)
    assert not limiter.blocked("alice", HOME)
    fail(limiter, "alice")
    assert limiter.blocked("alice", HOME)
    clock.now += 15 * 60 + 1
    assert not limiter.blocked("alice", HOME)


def test_each_failure_is_logged_with_name_and_address(clock, caplog):
    with caplog.at_level(logging.WARNING, logger="innovation_monitor.security"):
        SignInLimiter().failed("alice", HOME)
    assert [r.getMessage() for r in caplog.records] == [f"failed sign-in for 'alice' from {HOME}"]
