"""Passwords, agents file, signed sessions, CSRF tokens and the login rate limit, in isolation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from borderless.handoff import auth
from borderless.handoff.auth import (
    AgentConfigError,
    LoginRateLimiter,
    SessionSigner,
    authenticate,
    hash_password,
    load_agents,
    verify_password,
)

AGENTS_FILE = Path(__file__).resolve().parents[2] / "demo" / "agents.yml"
SECRET = "test-secret-that-is-long-enough"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_password("s3cret", first) and verify_password("s3cret", second)
    assert not verify_password("s3cret ", first)


@pytest.mark.parametrize("encoded", ["", "plain", "md5$1$2$3$aa$bb", "scrypt$x$8$1$aa$bb"])
def test_malformed_hashes_fail_closed(encoded: str) -> None:
    assert verify_password("anything", encoded) is False


def test_demo_agents_load_and_log_in_with_the_demo_password() -> None:
    agents = load_agents(AGENTS_FILE)
    assert set(agents) == {"mia", "kenji"}
    assert agents["mia"].languages == ("de", "en", "fr")
    assert agents["mia"].team == "Berlin"
    assert agents["kenji"].languages == ("ja", "en")
    assert agents["kenji"].team == "Tokyo"
    assert authenticate(agents, "kenji", "demo-password") == agents["kenji"]
    assert authenticate(agents, "kenji", "wrong") is None
    assert authenticate(agents, "nobody", "demo-password") is None
    assert agents["mia"].password_hash != agents["kenji"].password_hash  # per-user salt


def test_bad_agents_file_names_the_agent(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    path.write_text("agents:\n  bob:\n    name: Bob\n    password_hash: plaintext\n")
    with pytest.raises(AgentConfigError, match="bob"):
        load_agents(path)


def test_sessions_round_trip_and_expire() -> None:
    clock = Clock()
    signer = SessionSigner(SECRET, max_age=100, clock=clock)
    cookie, session = signer.issue("mia")
    assert signer.read(cookie) == session
    clock.now += 99
    assert signer.read(cookie) == session
    clock.now += 1
    assert signer.read(cookie) is None


@pytest.mark.parametrize("cookie", [None, "", "abc", "a.b.c", "e30.AAAA"])
def test_garbage_cookies_are_no_session(cookie: str | None) -> None:
    assert SessionSigner(SECRET).read(cookie) is None


def test_another_secret_does_not_accept_the_cookie() -> None:
    cookie, _ = SessionSigner(SECRET).issue("mia")
    assert SessionSigner(SECRET + "x").read(cookie) is None


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="CONSOLE_SECRET"):
        SessionSigner("short")


def test_csrf_tokens_are_per_session() -> None:
    signer = SessionSigner(SECRET)
    _, first = signer.issue("mia")
    _, second = signer.issue("mia")
    token = signer.csrf_token(first)
    assert signer.check_csrf(first, token)
    assert not signer.check_csrf(second, token)
    assert not signer.check_csrf(first, None)
    assert not signer.check_csrf(first, "")


def test_rate_limit_is_a_sliding_window_per_address() -> None:
    clock = Clock()
    limiter = LoginRateLimiter(max_failures=5, window=60, clock=clock)
    for _ in range(5):
        assert not limiter.blocked("10.0.0.1")
        limiter.failed("10.0.0.1")
        clock.now += 10
    assert limiter.blocked("10.0.0.1")
    assert not limiter.blocked("10.0.0.2")
    clock.now += 11  # the first failure is now more than 60 s old
    assert not limiter.blocked("10.0.0.1")
    limiter.succeeded("10.0.0.1")
    assert limiter._recent("10.0.0.1") == type(limiter._recent("x"))()


def test_cli_hashes_a_password_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hunter22\n"))
    assert auth.main(["hash"]) == 0
    printed = capsys.readouterr().out.strip()
    assert verify_password("hunter22", printed)


def test_cli_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert auth.main([]) == 2
    assert "usage" in capsys.readouterr().err
