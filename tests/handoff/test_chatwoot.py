"""Chatwoot as the desk: contract tests against a local server replaying documented payloads.

``fixtures/chatwoot/`` holds bodies of the shapes Chatwoot documents: the agent-bot webhooks
(``message_created``, ``conversation_status_changed``), the answers of ``toggle_status``
(``{"meta": {}, "payload": {"success": true, "current_status": …}}``), of message create and
of a conversation. A fake Chatwoot (aiohttp) records what the adapter sends and can answer
4xx/5xx, garbage or nothing at all; a fake Rasa plays the REST channel and the HTTP API.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sanic import Sanic

from borderless.handoff.chatwoot import (
    ChatwootApi,
    ChatwootDesk,
    ChatwootError,
    RasaRest,
    chatwoot_priority,
    create_chatwoot_bridge,
    reply_text,
    sender_id,
)
from borderless.handoff.desk import HandoffRequest
from borderless.handoff.rasa_api import RESUME_EVENTS, RasaHttpApi
from borderless.handoff.summary import ConsoleCatalog
from borderless.handoff.teams import Team
from borderless.handoff.triggers import HandoffRules

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "chatwoot"
LOCALES = Path(__file__).resolve().parents[2] / "locales"
TOKEN = "chatwoot-api-token"
WEBHOOK_TOKEN = "a-webhook-secret-long-enough"
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


@dataclass
class FakeChatwoot:
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None
    garbage: bool = False
    hang: bool = False
    status: str = "open"

    def posted(self, suffix: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "POST" and c["path"].endswith(suffix)]


@pytest.fixture
async def chatwoot() -> AsyncIterator[FakeChatwoot]:
    fake = FakeChatwoot()

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        fake.calls.append(
            {
                "method": request.method,
                "path": request.path,
                "token": request.headers.get("api_access_token"),
                "json": body,
            }
        )
        if fake.hang:
            await asyncio.sleep(1)
        if fake.fail_with:
            return web.json_response({"error": "boom"}, status=fake.fail_with)
        if fake.garbage:
            return web.Response(text="<html>maintenance</html>")
        if request.path.endswith("/toggle_status"):
            answer = payload("toggle_status")
            answer["payload"]["current_status"] = body["status"]
            return web.json_response(answer)
        if request.path.endswith("/messages"):
            return web.json_response({**payload("message"), "content": body["content"]})
        if request.path.endswith("/toggle_priority"):
            return web.Response(status=200)  # the documented answer has no body
        return web.json_response({**payload("conversation"), "status": fake.status})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


@dataclass
class FakeRasa:
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa(
        replies=[
            {"recipient_id": "x", "text": "Gern! Wie lautet Ihre Bestellnummer?"},
            {
                "recipient_id": "x",
                "text": "Möchten Sie mit einer Person sprechen?",
                "buttons": [{"title": "Ja, bitte", "payload": "/request_human"}],
            },
        ]
    )

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        fake.calls.append({"path": request.path, "query": dict(request.query), "json": body})
        if fake.fail_with:
            return web.json_response({"error": "down"}, status=fake.fail_with)
        if request.path == "/webhooks/rest/webhook":
            return web.json_response(fake.replies)
        if request.path.endswith("/trigger_intent"):
            messages = [{"recipient_id": "x", "text": "Kann ich Ihnen sonst noch helfen?"}]
            return web.json_response({"tracker": {}, "messages": messages})
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


def api_for(chatwoot: FakeChatwoot, timeout: float = 5.0) -> ChatwootApi:
    return ChatwootApi(chatwoot.url, 1, TOKEN, timeout=timeout)


@dataclass
class Bridge:
    url: str
    http: aiohttp.ClientSession

    async def send(
        self, body: Any, token: str = WEBHOOK_TOKEN, raw: bytes | None = None
    ) -> tuple[int, dict[str, Any]]:
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.http.post(
            f"{self.url}/webhooks/chatwoot",
            params={"token": token},
            data=data,
            headers={"Content-Type": "application/json"},
        ) as answer:
            return answer.status, await answer.json()


@pytest.fixture
async def bridge(chatwoot: FakeChatwoot, rasa: FakeRasa) -> AsyncIterator[Bridge]:
    Sanic.test_mode = True
    app = create_chatwoot_bridge(
        api_for(chatwoot), RasaRest(rasa.url), RasaHttpApi(rasa.url, "rasa-token"), WEBHOOK_TOKEN
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    async with aiohttp.ClientSession() as http:
        yield Bridge(f"http://127.0.0.1:{port}", http)
    await server.before_stop()
    await server.close()
    await server.wait_closed()
    await server.after_stop()


# ------------------------------------------------------------------------------------------
# The API client


async def test_toggle_status_sends_the_documented_request(chatwoot: FakeChatwoot) -> None:
    assert await api_for(chatwoot).toggle_status(123, "open") == "open"
    [call] = chatwoot.calls
    assert call["path"] == "/api/v1/accounts/1/conversations/123/toggle_status"
    assert call["token"] == TOKEN
    assert call["json"] == {"status": "open"}


async def test_a_message_is_posted_as_outgoing_or_as_a_private_note(
    chatwoot: FakeChatwoot,
) -> None:
    api = api_for(chatwoot)
    created = await api.send_message(123, "Hallo")
    assert created["id"] == 4712
    await api.send_message(123, "summary", private=True)
    bodies = [c["json"] for c in chatwoot.posted("/conversations/123/messages")]
    assert bodies == [
        {"content": "Hallo", "message_type": "outgoing", "private": False, "content_type": "text"},
        {"content": "summary", "message_type": "outgoing", "private": True, "content_type": "text"},
    ]


async def test_the_status_of_a_conversation(chatwoot: FakeChatwoot) -> None:
    chatwoot.status = "pending"
    assert await api_for(chatwoot).status(123) == "pending"
    assert chatwoot.calls[0]["method"] == "GET"
    assert chatwoot.calls[0]["path"] == "/api/v1/accounts/1/conversations/123"


@pytest.mark.parametrize("status", [401, 404, 422, 429, 500, 503])
async def test_error_statuses_become_one_error(chatwoot: FakeChatwoot, status: int) -> None:
    chatwoot.fail_with = status
    with pytest.raises(ChatwootError) as raised:
        await api_for(chatwoot).toggle_status(123, "open")
    assert raised.value.status == status


async def test_garbage_and_unsuccessful_answers_are_errors(chatwoot: FakeChatwoot) -> None:
    chatwoot.garbage = True
    with pytest.raises(ChatwootError, match="invalid JSON"):
        await api_for(chatwoot).send_message(123, "x")


async def test_a_hanging_chatwoot_times_out(chatwoot: FakeChatwoot) -> None:
    chatwoot.hang = True
    with pytest.raises(ChatwootError):
        await api_for(chatwoot, timeout=0.3).toggle_status(123, "open")


async def test_nobody_listening_is_an_error(free_port: int) -> None:
    with pytest.raises(ChatwootError) as raised:
        await ChatwootApi(f"http://127.0.0.1:{free_port}", 1, TOKEN).status(1)
    assert raised.value.status is None


# ------------------------------------------------------------------------------------------
# The desk


def desk_for(chatwoot: FakeChatwoot, teams: tuple[Team, ...]) -> ChatwootDesk:
    return ChatwootDesk(teams, api_for(chatwoot), HandoffRules(), ConsoleCatalog.load(LOCALES))


async def test_handing_over_posts_the_summary_and_opens_the_conversation(
    chatwoot: FakeChatwoot, teams: tuple[Team, ...]
) -> None:
    request = HandoffRequest(
        sender_id(123),
        "rest",
        "de",
        "complaint",
        frustration=0.7,
        summary={"reason": "complaint", "language": "de", "last_message": "Frechheit!"},
    )
    handover = await desk_for(chatwoot, teams).hand_over_async(request, TUESDAY)
    assert handover.ticket_id == 123 and handover.routing.team is not None
    [note] = chatwoot.posted("/messages")
    assert note["json"]["private"] is True
    text = note["json"]["content"]
    assert "Grund: Beschwerde" in text  # Berlin's agents read German
    assert "Letzte Nachricht: Frechheit!" in text
    assert "priority 269" in text  # upset (200) + round(0.7 × 99)
    [rank] = chatwoot.posted("/toggle_priority")
    assert rank["json"] == {"priority": "high"}  # upset
    [toggle] = chatwoot.posted("/toggle_status")
    assert toggle["json"] == {"status": "open"}
    assert chatwoot.calls.index(note) < chatwoot.calls.index(rank) < chatwoot.calls.index(toggle)


@pytest.mark.parametrize(
    ("rank", "level"),
    [(450, "urgent"), (400, "urgent"), (269, "high"), (130, "medium"), (5, "low")],
)
def test_the_queue_rank_maps_to_chatwoot_priorities(rank: int, level: str) -> None:
    assert chatwoot_priority(rank) == level


async def test_a_refused_priority_does_not_stop_the_handoff(
    chatwoot: FakeChatwoot, teams: tuple[Team, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(self: ChatwootApi, conversation_id: int, level: str) -> None:
        raise ChatwootError("422 unknown priority", 422)

    monkeypatch.setattr(ChatwootApi, "set_priority", refuse)
    request = HandoffRequest(sender_id(123), "rest", "en", "request_human")
    await desk_for(chatwoot, teams).hand_over_async(request, TUESDAY)
    assert [c["json"] for c in chatwoot.posted("/toggle_status")] == [{"status": "open"}]


async def test_a_conversation_from_elsewhere_cannot_be_handed_to_chatwoot(
    chatwoot: FakeChatwoot, teams: tuple[Team, ...]
) -> None:
    with pytest.raises(ValueError):
        await desk_for(chatwoot, teams).hand_over_async(
            HandoffRequest("customer-1", "rest", "en", "request_human"), TUESDAY
        )
    assert chatwoot.calls == []


@pytest.mark.parametrize(("status", "held"), [("open", True), ("pending", False)])
async def test_held_means_open_in_chatwoot(
    chatwoot: FakeChatwoot, teams: tuple[Team, ...], status: str, held: bool
) -> None:
    chatwoot.status = status
    assert await desk_for(chatwoot, teams).is_held("123") is held


async def test_when_chatwoot_is_down_a_held_conversation_stays_paused(
    chatwoot: FakeChatwoot, teams: tuple[Team, ...]
) -> None:
    chatwoot.fail_with = 503
    assert await desk_for(chatwoot, teams).is_held("123") is True
    assert await desk_for(chatwoot, teams).is_held("not-a-number") is False


# ------------------------------------------------------------------------------------------
# The bridge (agent-bot webhooks)


async def test_a_customer_message_in_a_pending_conversation_goes_to_rasa_and_back(
    bridge: Bridge, chatwoot: FakeChatwoot, rasa: FakeRasa
) -> None:
    status, body = await bridge.send(payload("message_created"))
    assert (status, body) == (200, {"handled": "answered: 2"})
    [call] = rasa.calls
    assert call["path"] == "/webhooks/rest/webhook"
    assert call["json"] == {
        "sender": "chatwoot-123",
        "message": "Hallo, wo ist meine Bestellung?",
        "metadata": {"channel": "chatwoot", "language": "de"},
    }
    contents = [c["json"]["content"] for c in chatwoot.posted("/conversations/123/messages")]
    assert contents == [
        "Gern! Wie lautet Ihre Bestellnummer?",
        "Möchten Sie mit einer Person sprechen?\n1. Ja, bitte",
    ]
    assert all(c["token"] == TOKEN for c in chatwoot.calls)


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"conversation": {"status": "open"}}, "ignored: conversation is open"),
        ({"message_type": "outgoing"}, "ignored: not a customer message"),
        ({"message_type": "activity"}, "ignored: not a customer message"),
        ({"private": True}, "ignored: not a customer message"),
        ({"content": "   "}, "ignored: no text"),
        ({"conversation": {"id": None}}, "ignored: no conversation id"),
        ({"event": "webwidget_triggered"}, "ignored: webwidget_triggered"),
    ],
)
async def test_what_the_bot_must_not_answer(
    bridge: Bridge,
    chatwoot: FakeChatwoot,
    rasa: FakeRasa,
    change: dict[str, Any],
    outcome: str,
) -> None:
    event = copy.deepcopy(payload("message_created"))
    for key, value in change.items():
        if isinstance(value, dict):
            event[key].update(value)
        else:
            event[key] = value
    status, body = await bridge.send(event)
    assert (status, body["handled"]) == (200, outcome)
    assert rasa.calls == [] and chatwoot.calls == []


async def test_the_agent_handing_back_resumes_the_bot_which_asks_once(
    bridge: Bridge, chatwoot: FakeChatwoot, rasa: FakeRasa
) -> None:
    status, body = await bridge.send(payload("conversation_status_changed"))
    assert (status, body) == (200, {"handled": "handed back"})
    resume, trigger = rasa.calls
    assert resume["path"] == "/conversations/chatwoot-123/tracker/events"
    assert resume["json"] == RESUME_EVENTS
    assert resume["query"]["token"] == "rasa-token"
    assert trigger["path"] == "/conversations/chatwoot-123/trigger_intent"
    assert trigger["json"] == {"name": "EXTERNAL_handoff_resolved"}
    [posted] = chatwoot.posted("/conversations/123/messages")
    assert posted["json"]["content"] == "Kann ich Ihnen sonst noch helfen?"


async def test_resolving_in_chatwoot_only_resumes(
    bridge: Bridge, chatwoot: FakeChatwoot, rasa: FakeRasa
) -> None:
    event = {**payload("conversation_status_changed"), "event": "conversation_resolved"}
    event["status"] = "resolved"
    assert (await bridge.send(event))[1] == {"handled": "resumed"}
    assert [c["path"] for c in rasa.calls] == ["/conversations/chatwoot-123/tracker/events"]
    assert chatwoot.calls == []


async def test_opening_a_conversation_changes_nothing(bridge: Bridge, rasa: FakeRasa) -> None:
    event = {**payload("conversation_status_changed"), "status": "open"}
    assert (await bridge.send(event))[1] == {"handled": "ignored: status open"}
    assert rasa.calls == []


@pytest.mark.parametrize("token", ["", "wrong", WEBHOOK_TOKEN + "x"])
async def test_a_webhook_without_the_secret_is_refused(
    bridge: Bridge, rasa: FakeRasa, token: str
) -> None:
    status, body = await bridge.send(payload("message_created"), token=token)
    assert status == 401 and rasa.calls == []


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'{"no": "event"}'])
async def test_bad_bodies_get_a_clear_400(bridge: Bridge, rasa: FakeRasa, raw: bytes) -> None:
    status, body = await bridge.send(None, raw=raw)
    assert status == 400 and "error" in body
    assert rasa.calls == []


@pytest.mark.parametrize("who", ["chatwoot", "rasa"])
async def test_a_failing_side_is_a_502_so_chatwoot_retries(
    bridge: Bridge, chatwoot: FakeChatwoot, rasa: FakeRasa, who: str
) -> None:
    (chatwoot if who == "chatwoot" else rasa).fail_with = 500
    status, body = await bridge.send(payload("message_created"))
    assert status == 502 and body == {"error": "upstream failed, retry"}
    # The bridge is still up for the next event.
    chatwoot.fail_with = rasa.fail_with = None
    assert (await bridge.send(payload("message_created")))[0] == 200


def test_replies_become_plain_text() -> None:
    assert reply_text({"text": " Hi "}) == "Hi"
    assert reply_text({"text": "Pick", "buttons": [{"title": "A"}, {"title": "B"}]}) == (
        "Pick\n1. A\n2. B"
    )
    assert reply_text({"image": "https://x"}) == ""


def test_a_short_webhook_secret_is_refused(chatwoot: FakeChatwoot) -> None:
    with pytest.raises(ValueError):
        create_chatwoot_bridge(
            api_for(chatwoot), RasaRest("http://x"), RasaHttpApi("http://x"), "short"
        )


def test_make_run_starts_the_bridge_only_for_the_chatwoot_desk() -> None:
    from borderless.launcher import parts

    ports = {"SHOP_PORT": "1", "ACTION_PORT": "2", "RASA_PORT": "3", "CONSOLE_PORT": "4"}
    env = {**ports, "RASA_AUTH_TOKEN": "t", "SHOP_DATABASE_URL": "sqlite://", "SHOP_SEED_FILE": "x"}
    assert "chatwoot" not in [p.name for p in parts(env)]
    [bridge] = [p for p in parts({**env, "HANDOFF_DESK": "chatwoot"}) if p.name == "chatwoot"]
    assert bridge.command[-3:] == ["borderless.handoff.chatwoot", "--port", "5090"]
    assert bridge.health_url == "http://127.0.0.1:5090/health"
