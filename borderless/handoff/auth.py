"""Who may use the agent console: agent accounts, password hashes, sessions, CSRF, rate limit.

Standard library only (hashlib, hmac, secrets), so the console adds no dependency for its most
sensitive part, and every piece takes an injectable clock so tests can expire things.

Password hash format (one string, stored in ``demo/agents.yml``)::

    scrypt$<n>$<r>$<p>$<salt, urlsafe base64>$<key, urlsafe base64>

scrypt (RFC 7914) with a random 16-byte salt per user and a 32-byte key; the cost parameters are
in the string, so they can be raised later without invalidating existing hashes. Make one with
``python -m borderless.handoff.auth hash`` (reads the password from stdin or a prompt).

Sessions are a signed cookie, not server state: ``base64(json payload) "." base64(HMAC-SHA256)``
with the secret from ``CONSOLE_SECRET``. The payload holds the username, the expiry and a random
nonce; the CSRF token is HMAC(secret, "csrf:" + nonce), so it is per session, needs no storage,
and a forged or stale token fails a constant-time comparison. Logging out cannot revoke a stolen
cookie before it expires (8 h); that is the price of keeping no session table.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import json
import secrets
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
SESSION_MAX_AGE = 8 * 3600  # one shift
COOKIE_NAME = "borderless_console"

Clock = Callable[[], float]


class AgentConfigError(ValueError):
    """The agents file is wrong; the message names the agent and the field."""


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str
    languages: tuple[str, ...]
    team: str | None
    password_hash: str


@dataclass(frozen=True)
class Session:
    username: str
    expires_at: float
    nonce: str


# ------------------------------------------------------------------------------------------
# Passwords


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check; a malformed hash is a failed login, never an exception."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(key)
        actual = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


# Checked against when the username is unknown, so "no such agent" takes as long as
# "wrong password" and the timing does not tell which usernames exist.
_DUMMY_HASH = hash_password("borderless-no-such-agent", salt=b"\0" * SALT_BYTES)


def authenticate(agents: Mapping[str, Agent], username: str, password: str) -> Agent | None:
    agent = agents.get(username)
    ok = verify_password(password, agent.password_hash if agent else _DUMMY_HASH)
    return agent if ok and agent is not None else None


# ------------------------------------------------------------------------------------------
# Agents file


def load_agents(path: Path | str) -> dict[str, Agent]:
    """Agents by username, from the YAML format documented in ``demo/agents.yml``."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = data.get("agents")
    if not isinstance(entries, Mapping):
        raise AgentConfigError(f"{path}: expected a mapping under 'agents'")
    agents: dict[str, Agent] = {}
    for username, raw in entries.items():
        if not isinstance(raw, Mapping):
            raise AgentConfigError(f"agent {username!r}: expected a mapping")
        password_hash = raw.get("password_hash")
        if not isinstance(password_hash, str) or not password_hash.startswith("scrypt$"):
            raise AgentConfigError(f"agent {username!r}: password_hash must be a scrypt$ hash")
        languages = raw.get("languages") or []
        if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            raise AgentConfigError(f"agent {username!r}: languages must be a list of codes")
        team = raw.get("team")
        agents[str(username)] = Agent(
            username=str(username),
            display_name=str(raw.get("name") or username),
            languages=tuple(languages),
            team=str(team) if team else None,
            password_hash=password_hash,
        )
    return agents


# ------------------------------------------------------------------------------------------
# Sessions and CSRF


class SessionSigner:
    """Issues and checks the signed session cookie; ``clock`` is injectable for expiry tests."""

    def __init__(
        self, secret: str, max_age: int = SESSION_MAX_AGE, clock: Clock = time.time
    ) -> None:
        if len(secret) < 16:
            raise ValueError("CONSOLE_SECRET must be at least 16 characters")
        self._key = hashlib.sha256(b"borderless-console-session:" + secret.encode()).digest()
        self.max_age = max_age
        self.clock = clock

    def issue(self, username: str) -> tuple[str, Session]:
        session = Session(username, self.clock() + self.max_age, secrets.token_urlsafe(16))
        payload = json.dumps(
            {"u": session.username, "exp": session.expires_at, "n": session.nonce},
            separators=(",", ":"),
        ).encode()
        body = _b64(payload)
        return f"{body}.{self._sign(body)}", session

    def read(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or ``None`` when missing, tampered with or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            data: Any = json.loads(_unb64(body))
            session = Session(str(data["u"]), float(data["exp"]), str(data["n"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if session.expires_at <= self.clock():
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        return _b64(hmac.new(self._key, b"csrf:" + session.nonce.encode(), "sha256").digest())

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return hmac.compare_digest((token or "").encode(), self.csrf_token(session).encode())

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), "sha256").digest())


# ------------------------------------------------------------------------------------------
# Login rate limit


class LoginRateLimiter:
    """At most ``max_failures`` failed logins per client address in a sliding ``window``.

    In memory, per process: enough to make online guessing slow for one console instance.
    Several instances behind a load balancer would each count separately.
    """

    def __init__(self, max_failures: int = 5, window: float = 60.0, clock: Clock = time.time):
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, client: str) -> bool:
        return len(self._recent(client)) >= self.max_failures

    def failed(self, client: str) -> None:
        self._recent(client).append(self.clock())

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures


# ------------------------------------------------------------------------------------------
# CLI


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["hash"]:
        print("usage: python -m borderless.handoff.auth hash", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("empty password", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def set_session_cookie(
    response: Any, name: str, cookie: str, max_age: int, secure: bool = False
) -> None:
    """Put a signed session cookie on a (Sanic) response: HttpOnly, SameSite=Lax, whole site,
    expiring with the session; Secure behind HTTPS. Shared by the console and the workbench."""
    response.cookies[name] = cookie
    morsel = response.cookies[name]
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    morsel["path"] = "/"
    morsel["max-age"] = max_age
    if secure:
        morsel["secure"] = True


def clear_session_cookie(response: Any, name: str) -> None:
    """Expire the session cookie ``name`` (logout)."""
    response.cookies[name] = ""
    response.cookies[name]["path"] = "/"
    response.cookies[name]["max-age"] = 0
