"""The agent console over real HTTP: a Sanic app in-process, a fake Rasa, tickets on SQLite.

The fake Rasa is a local aiohttp server that records every call and serves a tracker of the
documented shape (``GET /conversations/{id}/tracker``), so the tests check what the console
actually sends: the bot event with the customer's output channel, resume, trigger_intent.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sanic import Sanic

from borderless.handoff.auth import COOKIE_NAME, SessionSigner, load_agents
from borderless.handoff.console import RESOLVED_INTENT, create_console_app
from borderless.handoff.rasa_api import RESUME_EVENTS, RasaHttpApi
from borderless.handoff.tickets import ASSIGNED, OPEN, RESOLVED, NewTicket, TicketStore

AGENTS_FILE = Path(__file__).resolve().parents[2] / "demo" / "agents.yml"
SECRET = "test-secret-that-is-long-enough"
TOKEN = "rasa-token"
START = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
PASSWORD = "demo-password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """Seconds since the epoch, moved by the tests; drives sessions, tickets and rate limits."""

    def __init__(self) -> None:
        self.now = START.timestamp()

    def __call__(self) -> float:
        return self.now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, timezone.utc)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta).total_seconds()


# ------------------------------------------------------------------------------------------
# Fake Rasa


@dataclass
class FakeRasa:
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    trackers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail_with: int | None = None

    def posted(self, path_end: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "POST" and c["path"].endswith(path_end)]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.calls.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "json": body,
            }
        )
        if request.query.get("token") != TOKEN:
            return web.json_response(
                {"status": "failure", "reason": "NotAuthenticated"}, status=401
            )
        if self.fail_with:
            return web.json_response({"status": "failure"}, status=self.fail_with)
        conversation = request.match_info["conversation"]
        events = self.trackers.setdefault(conversation, [])
        if request.method == "POST" and request.match_info["tail"] == "tracker/events":
            events.extend(body if isinstance(body, list) else [body] if body else [])
        return web.json_response({"sender_id": conversation, "events": events})


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_route("*", "/conversations/{conversation}/{tail:.+}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}"
    yield fake
    await runner.cleanup()


# ------------------------------------------------------------------------------------------
# Tickets and the console


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[TicketStore]:
    tickets = TicketStore(f"sqlite:///{tmp_path / 'handoff.db'}", clock=clock.datetime)
    tickets.create_schema()
    yield tickets
    tickets.dispose()


@dataclass
class Tickets:
    german: int  # oldest, low priority
    complaint: int  # newer, but frustrated: first in the queue
    japanese: int
    resolved: int


@pytest.fixture
def tickets(store: TicketStore, clock: Clock, rasa: FakeRasa) -> Tickets:
    german = store.create(
        NewTicket(
            "conv-de",
            "whatsapp",
            "de",
            "order_status",
            status=OPEN,
            team="Berlin",
            order_number="BL-1001",
            summary={"topic": "Wo ist meine Bestellung?"},
        )
    )
    clock.advance(minutes=5)
    complaint = store.create(
        NewTicket(
            "conv-fr",
            "messenger",
            "fr",
            "complaint",
            status=OPEN,
            frustration=0.9,
            team="Berlin",
            summary={"topic": "colis abîmé"},
        )
    )
    clock.advance(minutes=1)
    japanese = store.create(
        NewTicket("conv-ja", "telegram", "ja", "order_status", status=OPEN, team="Tokyo")
    )
    resolved = store.create(NewTicket("conv-old", "whatsapp", "en", "other", status=OPEN))
    store.update_status(resolved, RESOLVED)
    clock.advance(minutes=10)
    rasa.trackers["conv-de"] = [
        {"event": "action", "name": "action_listen", "timestamp": START.timestamp()},
        {"event": "user", "text": "Wo ist mein Paket?", "timestamp": START.timestamp()},
        {"event": "bot", "text": "Ich verbinde dich mit einer Person.", "timestamp": 1.8e9},
        {"event": "pause", "timestamp": 1.8e9},
        {"event": "user", "text": "<script>alert('x')</script>", "timestamp": 1.8e9},
    ]
    return Tickets(german, complaint, japanese, resolved)


@dataclass
class Console:
    url: str
    http: aiohttp.ClientSession
    clock: Clock

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.url + path, allow_redirects=False, **kwargs) as answer:
            return answer.status, await answer.text(), answer

    async def post(
        self, path: str, data: dict[str, str] | None = None
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.post(self.url + path, data=data or {}, allow_redirects=False) as a:
            return a.status, await a.text(), a

    async def login(self, username: str = "mia", password: str = PASSWORD) -> int:
        status, _, _ = await self.post("/login", {"username": username, "password": password})
        return status

    async def csrf(self, path: str = "/") -> str:
        status, page, _ = await self.get(path)
        assert status == 200, page
        match = CSRF.search(page)
        assert match
        return match.group(1)

    async def act(self, path: str, **fields: str) -> tuple[int, str, aiohttp.ClientResponse]:
        return await self.post(path, {"csrf_token": await self.csrf(), **fields})


@pytest.fixture
async def console(store: TicketStore, rasa: FakeRasa, clock: Clock) -> AsyncIterator[Console]:
    # Same reason as tests/channels: Sanic 21.12 only starts a second app per process in test mode.
    Sanic.test_mode = True
    app = create_console_app(
        store,
        RasaHttpApi(rasa.url, TOKEN, timeout=5),
        load_agents(AGENTS_FILE),
        SECRET,
        clock=clock,
    )
    assert app.name.startswith("borderless-console-")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    # unsafe=True: aiohttp's cookie jar otherwise drops cookies set by an IP-address host.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Console(f"http://127.0.0.1:{port}", http, clock)
    await server.before_stop()
    await server.close()
    await server.wait_closed()
    await server.after_stop()


def rows(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-ticket="(\d+)"', page)]


# ------------------------------------------------------------------------------------------
# Login, sessions, rate limit


@pytest.mark.parametrize("path", ["/", "/tickets/1"])
async def test_pages_redirect_to_login(console: Console, path: str) -> None:
    status, _, answer = await console.get(path)
    assert status == 303
    assert answer.headers["Location"] == f"/login?next=%2F{path[1:].replace('/', '%2F')}"


async def test_polling_without_login_is_a_json_401(console: Console, tickets: Tickets) -> None:
    status, body, _ = await console.get(f"/tickets/{tickets.german}/messages")
    assert status == 401
    assert "login required" in body


async def test_login_sets_a_hardened_cookie_and_opens_the_queue(
    console: Console, tickets: Tickets
) -> None:
    status, _, answer = await console.post(
        "/login", {"username": "mia", "password": PASSWORD, "next": "/tickets/1"}
    )
    assert status == 303
    assert answer.headers["Location"] == "/tickets/1"
    cookie = answer.headers["Set-Cookie"]
    assert COOKIE_NAME in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=28800" in cookie
    status, page, answer = await console.get("/")
    assert status == 200
    assert "Mia Schneider" in page
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


async def test_next_cannot_redirect_off_site(console: Console) -> None:
    _, _, answer = await console.post(
        "/login", {"username": "mia", "password": PASSWORD, "next": "//evil.example/"}
    )
    assert answer.headers["Location"] == "/"


@pytest.mark.parametrize(("username", "password"), [("mia", "wrong"), ("nobody", PASSWORD)])
async def test_wrong_credentials_are_refused_alike(
    console: Console, username: str, password: str
) -> None:
    status, page, answer = await console.post(
        "/login", {"username": username, "password": password}
    )
    assert status == 401
    assert "Wrong username or password." in page
    assert "Set-Cookie" not in answer.headers
    assert (await console.get("/"))[0] == 303


async def test_five_failures_a_minute_block_the_address(console: Console) -> None:
    for _ in range(5):
        assert await console.login(password="guess") == 401
    assert await console.login() == 429  # even the right password, while blocked
    console.clock.advance(seconds=61)
    assert await console.login() == 303


async def test_the_session_expires_after_eight_hours(console: Console) -> None:
    assert await console.login() == 303
    console.clock.advance(hours=7, minutes=59)
    assert (await console.get("/"))[0] == 200
    console.clock.advance(minutes=2)
    assert (await console.get("/"))[0] == 303


async def test_a_tampered_cookie_is_no_session(console: Console) -> None:
    assert await console.login() == 303
    [cookie] = [c for c in console.http.cookie_jar if c.key == COOKIE_NAME]
    body, signature = cookie.value.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    console.http.cookie_jar.update_cookies({COOKIE_NAME: forged})
    assert (await console.get("/"))[0] == 303


async def test_logout_ends_the_session(console: Console) -> None:
    assert await console.login() == 303
    status, _, answer = await console.act("/logout")
    assert status == 303
    assert answer.headers["Location"] == "/login"
    assert (await console.get("/"))[0] == 303


# ------------------------------------------------------------------------------------------
# Queue


async def test_queue_is_by_priority_then_waiting_time(console: Console, tickets: Tickets) -> None:
    await console.login()
    status, page, _ = await console.get("/")
    assert status == 200
    assert rows(page) == [tickets.complaint, tickets.german, tickets.japanese]
    assert tickets.resolved not in rows(page)
    german_row = page.split(f'data-ticket="{tickets.german}"')[1].split("</tr>")[0]
    for shown in ("de", "whatsapp", "order status", "16 min", "Wo ist meine Bestellung?"):
        assert shown in german_row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?language=ja", ["japanese"]),
        ("?team=Berlin", ["complaint", "german"]),
        ("?language=de&team=Berlin", ["german"]),
        ("?language=de&team=Tokyo", []),
    ],
)
async def test_queue_filters_by_language_and_team(
    console: Console, tickets: Tickets, query: str, expected: list[str]
) -> None:
    await console.login()
    _, page, _ = await console.get("/" + query)
    assert rows(page) == [getattr(tickets, name) for name in expected]


# ------------------------------------------------------------------------------------------
# Ticket page


async def test_ticket_page_shows_fields_and_transcript_escaped(
    console: Console, tickets: Tickets, store: TicketStore
) -> None:
    store.append_message(
        tickets.german, "customer", "<b>hallo</b> & tschüss", console.clock.datetime()
    )
    await console.login()
    status, page, _ = await console.get(f"/tickets/{tickets.german}")
    assert status == 200
    for shown in (
        "conv-de",
        "BL-1001",
        "Wo ist mein Paket?",
        "Ich verbinde dich mit einer Person.",
    ):
        assert shown in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;hallo&lt;/b&gt; &amp; tschüss" in page
    assert '<script src="/static/ticket.js"></script>' in page


async def test_ticket_page_survives_rasa_being_down(
    console: Console, tickets: Tickets, rasa: FakeRasa
) -> None:
    rasa.fail_with = 503
    await console.login()
    status, page, _ = await console.get(f"/tickets/{tickets.german}")
    assert status == 200
    assert "transcript is unavailable" in page


async def test_unknown_ticket_is_404(console: Console, tickets: Tickets) -> None:
    await console.login()
    assert (await console.get("/tickets/999"))[0] == 404


async def test_static_assets_are_served(console: Console) -> None:
    for path in ("/static/console.css", "/static/ticket.js"):
        assert (await console.get(path))[0] == 200


# ------------------------------------------------------------------------------------------
# Actions


async def test_reply_goes_out_through_the_customers_channel(
    console: Console, tickets: Tickets, rasa: FakeRasa, store: TicketStore
) -> None:
    await console.login()
    status, _, answer = await console.act(
        f"/tickets/{tickets.german}/reply", text="  Ihr Paket kommt morgen.  "
    )
    assert status == 303
    assert answer.headers["Location"] == f"/tickets/{tickets.german}"
    [call] = rasa.posted("/conversations/conv-de/tracker/events")
    assert call["query"] == {
        "output_channel": "whatsapp",
        "execute_side_effects": "true",
        "token": TOKEN,
    }
    assert call["json"] == {
        "event": "bot",
        "text": "Ihr Paket kommt morgen.",
        "metadata": {"sender": "agent"},
    }
    [message] = store.messages(tickets.german)
    assert (message.sender, message.text) == ("agent", "Ihr Paket kommt morgen.")
    assert message.at == console.clock.datetime()
    _, page, _ = await console.get(f"/tickets/{tickets.german}")
    assert page.count("Ihr Paket kommt morgen.") == 2  # in the tracker (as agent) and the log


async def test_a_failed_delivery_is_not_recorded(
    console: Console, tickets: Tickets, rasa: FakeRasa, store: TicketStore
) -> None:
    await console.login()
    token = await console.csrf()
    rasa.fail_with = 500
    status, _, _ = await console.post(
        f"/tickets/{tickets.german}/reply", {"csrf_token": token, "text": "Hallo"}
    )
    assert status == 502
    assert store.messages(tickets.german) == []


async def test_polling_returns_what_is_new(
    console: Console, tickets: Tickets, store: TicketStore
) -> None:
    first = store.append_message(tickets.german, "customer", "eins", console.clock.datetime())
    store.append_message(tickets.german, "agent", "zwei", console.clock.datetime())
    await console.login()
    async with console.http.get(
        f"{console.url}/tickets/{tickets.german}/messages?after={first}&events_after=2"
    ) as answer:
        assert answer.status == 200
        body = await answer.json()
    assert [m["text"] for m in body["messages"]] == ["zwei"]
    assert body["status"] == OPEN
    at = datetime.fromtimestamp(1.8e9, timezone.utc).isoformat()
    assert body["transcript"] == [
        {"sender": "customer", "text": "<script>alert('x')</script>", "at": at}
    ]
    assert body["transcript_length"] == 3


async def test_take_assigns_the_ticket_once(
    console: Console, tickets: Tickets, store: TicketStore
) -> None:
    await console.login()
    assert (await console.act(f"/tickets/{tickets.german}/take"))[0] == 303
    ticket = store.get(tickets.german)
    assert (ticket.status, ticket.agent) == (ASSIGNED, "mia")
    status, page, _ = await console.act(f"/tickets/{tickets.german}/take")
    assert status == 409
    assert "Someone else has this ticket" in page


async def test_resolve_hands_back_to_the_bot(
    console: Console, tickets: Tickets, rasa: FakeRasa, store: TicketStore
) -> None:
    await console.login()
    await console.act(f"/tickets/{tickets.german}/take")
    status, _, _ = await console.act(f"/tickets/{tickets.german}/resolve")
    assert status == 303
    assert store.get(tickets.german).status == RESOLVED
    [resume] = rasa.posted("/conversations/conv-de/tracker/events")
    assert resume["json"] == RESUME_EVENTS
    [trigger] = rasa.posted("/conversations/conv-de/trigger_intent")
    assert trigger["json"] == {"name": RESOLVED_INTENT}
    assert trigger["query"]["output_channel"] == "whatsapp"
    assert rasa.calls.index(resume) < rasa.calls.index(trigger)


async def test_resolve_can_be_retried_when_rasa_failed(
    console: Console, tickets: Tickets, rasa: FakeRasa, store: TicketStore
) -> None:
    await console.login()
    token = await console.csrf()
    rasa.fail_with = 503
    path = f"/tickets/{tickets.german}/resolve"
    assert (await console.post(path, {"csrf_token": token}))[0] == 502
    assert store.get(tickets.german).status == RESOLVED
    rasa.fail_with = None
    assert (await console.post(path, {"csrf_token": token}))[0] == 303
    resumes = [c["json"] for c in rasa.posted("/tracker/events")]
    assert resumes == [RESUME_EVENTS, RESUME_EVENTS]  # the first one failed
    assert len(rasa.posted("/trigger_intent")) == 1


async def test_close_resumes_the_bot_without_a_question(
    console: Console, tickets: Tickets, rasa: FakeRasa, store: TicketStore
) -> None:
    await console.login()
    assert (await console.act(f"/tickets/{tickets.japanese}/close"))[0] == 303
    assert store.get(tickets.japanese).status == "closed"
    assert [c["json"] for c in rasa.posted("/conversations/conv-ja/tracker/events")] == [
        RESUME_EVENTS
    ]
    assert rasa.posted("/trigger_intent") == []
    status, _, _ = await console.act(f"/tickets/{tickets.japanese}/reply", text="hello?")
    assert status == 409


@pytest.mark.parametrize("action", ["reply", "take", "resolve", "close"])
@pytest.mark.parametrize("token", [None, "forged"])
async def test_posts_without_the_csrf_token_are_refused(
    console: Console,
    tickets: Tickets,
    rasa: FakeRasa,
    store: TicketStore,
    action: str,
    token: str | None,
) -> None:
    await console.login()
    data = {"text": "hi"} if token is None else {"text": "hi", "csrf_token": token}
    status, _, _ = await console.post(f"/tickets/{tickets.german}/{action}", data)
    assert status == 403
    assert rasa.calls == []
    assert store.get(tickets.german).status == OPEN


async def test_the_csrf_token_belongs_to_the_session(console: Console, tickets: Tickets) -> None:
    await console.login()
    old = await console.csrf()
    await console.login("kenji")
    assert (await console.post(f"/tickets/{tickets.german}/take", {"csrf_token": old}))[0] == 403


async def test_a_valid_cookie_of_an_agent_no_longer_in_the_file_is_no_session(
    console: Console,
) -> None:
    cookie, _ = SessionSigner(SECRET, clock=console.clock).issue("ghost")
    console.http.cookie_jar.update_cookies({COOKIE_NAME: cookie})
    assert (await console.get("/"))[0] == 303


# ------------------------------------------------------------------------------------------
# The summary in the agent's language; the customer's words as they wrote them


async def test_each_agent_reads_the_summary_in_their_own_language(
    console: Console, store: TicketStore
) -> None:
    ticket = store.create(
        NewTicket(
            conversation_id="conv-it",
            channel="rest",
            language="it",
            reason="chargeback",
            sensitive=True,
            last_intents=("payment_problem", "request_human"),
            summary={
                "reason": "chargeback",
                "language": "it",
                "last_message": "Voglio contestare l'addebito!",
                "frustration": "piled-up punctuation, negative words: truffa",
                "agent_language": "en",
            },
        )
    )
    await console.login("kenji")  # languages [ja, en]
    _, page, _ = await console.get(f"/tickets/{ticket}")
    japanese = ("理由", "チャージバック", "イタリア語 (it)", "記号の連続", "否定的な言葉: truffa")
    for shown in japanese:
        assert shown in page, shown
    assert "Voglio contestare l&#39;addebito!" in page  # the customer's words, untranslated
    await console.login("mia")  # languages [de, en, fr]
    _, page, _ = await console.get("/")
    for shown in ("Grund", "Rückbuchung", "Italienisch (it)", "gehäufte Satzzeichen"):
        assert shown in page, shown
