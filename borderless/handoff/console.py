"""The agent console (the default "desk"): where a person picks up what the bot handed over.

A small Sanic app with server-rendered Jinja2 pages, because agents need a queue, a transcript
and a reply box, not a single-page app to build and audit. The design choices that matter:

* **The customer's own channel.** A reply goes through Rasa's HTTP API as a ``bot`` event with
  the ticket's channel as ``output_channel`` (see :mod:`borderless.handoff.rasa_api`), so it
  reaches WhatsApp, Messenger, … where the customer wrote, and it is in the tracker when the bot
  takes over again. It is also stored as a handoff message, the console's own record.
* **Handing back.** "Resolve" resumes the paused tracker and triggers
  ``EXTERNAL_handoff_resolved``, so the bot, not the agent, asks whether anything else is needed,
  in the customer's language. "Close" resumes without a question: a closed ticket must not leave
  the bot silent for the customer's next message. Both are safe to repeat: a ticket already in
  the target status skips the status change and only retries the Rasa calls.
* **Security.** Every page needs a login (signed cookie, :mod:`borderless.handoff.auth`); every
  POST but the login itself needs the session's CSRF token; Jinja2 autoescapes everything,
  because customer text is attacker-controlled; a strict Content-Security-Policy allows only
  this app's own script and stylesheet. Personal data is shown as is: agents need it.
* The ticket store is synchronous (SQLAlchemy Core), so each call runs in a worker thread.

Run it with ``python -m borderless.handoff.console --port 8080`` (environment in :func:`main`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from sanic import Request, Sanic
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, html, redirect
from sanic.response import json as sanic_json
from sqlalchemy.exc import SQLAlchemyError

from borderless.customers.api import linked_conversations_blueprint
from borderless.customers.identities import IdentityStore, LinkedConversation
from borderless.handoff.auth import (
    COOKIE_NAME,
    SESSION_MAX_AGE,
    Agent,
    LoginRateLimiter,
    Session,
    SessionSigner,
    authenticate,
    clear_session_cookie,
    load_agents,
    set_session_cookie,
)
from borderless.handoff.rasa_api import LATEST, RasaApiError, RasaHttpApi
from borderless.handoff.summary import ConsoleCatalog, console_catalog
from borderless.handoff.tickets import (
    ASSIGNED,
    CLOSED,
    RESOLVED,
    TRANSITIONS,
    InvalidTransition,
    Message,
    Ticket,
    TicketNotFound,
    TicketStore,
)

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
RESOLVED_INTENT = "EXTERNAL_handoff_resolved"
MAX_REPLY_CHARS = 4000
MAX_BODY_BYTES = 64 * 1024
PUBLIC_PATHS = ("/login", "/static/")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_app_ids = itertools.count(1)


def create_console_app(
    ticket_store: TicketStore,
    rasa_api: RasaHttpApi,
    agents: Mapping[str, Agent],
    secret: str,
    *,
    clock: Callable[[], float] = time.time,
    rate_limiter: LoginRateLimiter | None = None,
    secure_cookies: bool = False,
    create_schema: bool = True,
    summaries: ConsoleCatalog | None = None,
    identities: IdentityStore | None = None,
) -> Sanic:
    """A new console app; nothing touches the database or Rasa until a request needs it.

    ``clock`` (seconds since the epoch) drives session expiry, the rate limit and the times of
    agent messages, so tests can move time. ``secure_cookies`` should be on behind HTTPS.
    ``summaries`` translates ticket summaries into each agent's first language
    (``locales/<lang>/LC_MESSAGES/console.po`` by default). ``identities`` (the customer links of
    every channel) lets a ticket show the customer's conversations on other channels.
    """
    catalog = summaries or console_catalog(HERE.parents[1] / "locales")
    signer = SessionSigner(secret, SESSION_MAX_AGE, clock)
    limiter = rate_limiter or LoginRateLimiter(clock=clock)
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["duration"] = _duration
    templates.filters["when"] = _when

    app = Sanic(f"borderless-console-{next(_app_ids)}")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.static("/static", str(HERE / "static"), name="console_static")

    def now() -> datetime:
        return datetime.fromtimestamp(clock(), timezone.utc)

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTTPResponse:
        session: Session | None = getattr(request.ctx, "session", None)
        agent: Agent | None = getattr(request.ctx, "agent", None)
        language = agent.languages[0] if agent and agent.languages else "en"
        page = templates.get_template(name).render(
            agent=agent,
            summary_lines=lambda summary: catalog.lines(summary, language),
            csrf_token=signer.csrf_token(session) if session else "",
            **context,
        )
        return html(page, status=status)

    async def store(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(method, *args, **kwargs)

    if create_schema:

        @app.before_server_start
        async def prepare_database(_app: Sanic, _loop: Any) -> None:
            await store(ticket_store.create_schema)

    @app.on_request
    async def require_login(request: Request) -> HTTPResponse | None:
        if request.path.startswith(PUBLIC_PATHS):
            return None
        session = signer.read(request.cookies.get(COOKIE_NAME))
        agent = agents.get(session.username) if session else None
        if session is None or agent is None:  # an agent removed from the file is logged out
            if request.path.endswith("/messages"):
                return sanic_json({"error": "login required"}, status=401)
            return redirect("/login?" + urlencode({"next": _safe_next(request.path)}), status=303)
        request.ctx.session = session
        request.ctx.agent = agent
        if request.method == "POST":
            token = request.form.get("csrf_token") if request.form else None
            if not signer.check_csrf(session, token or request.headers.get("x-csrf-token")):
                return render(request, "error.html", 403, message="Invalid or missing CSRF token.")
        return None

    @app.on_response
    async def security_headers(_request: Request, response: HTTPResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)

    # -- login -------------------------------------------------------------------------------

    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        return render(request, "login.html", next=_safe_next(request.args.get("next", "/")))

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        client = request.remote_addr or request.ip
        form = request.form or {}
        username = (form.get("username") or "").strip()
        target = _safe_next(form.get("next") or "/")
        if limiter.blocked(client):
            return render(
                request,
                "login.html",
                429,
                next=target,
                username=username,
                error="Too many failed logins. Wait a minute and try again.",
            )
        agent = await asyncio.to_thread(authenticate, agents, username, form.get("password") or "")
        if agent is None:
            limiter.failed(client)
            return render(
                request,
                "login.html",
                401,
                next=target,
                username=username,
                error="Wrong username or password.",
            )
        limiter.succeeded(client)
        cookie, _session = signer.issue(agent.username)
        response = redirect(target, status=303)
        set_session_cookie(response, COOKIE_NAME, cookie, signer.max_age, secure_cookies)
        return response

    @app.route("/logout", methods=["GET", "POST"])
    async def logout(_request: Request) -> HTTPResponse:
        # GET works too: forcing someone to log out is harmless, a dead logout link is not.
        response = redirect("/login", status=303)
        clear_session_cookie(response, COOKIE_NAME)
        return response

    # -- queue -------------------------------------------------------------------------------

    @app.get("/")
    async def queue(request: Request) -> HTTPResponse:
        language = request.args.get("language") or None
        team = request.args.get("team") or None
        tickets: list[Ticket] = await store(ticket_store.list_open, language, team)
        moment = now()
        return render(
            request,
            "queue.html",
            tickets=[(ticket, moment - ticket.created_at) for ticket in tickets],
            language=language or "",
            team=team or "",
            teams=sorted({a.team for a in agents.values() if a.team}),
            languages=sorted({code for a in agents.values() for code in a.languages}),
            agents=agents,
        )

    # -- one ticket --------------------------------------------------------------------------

    async def load_ticket(ticket_id: int) -> Ticket:
        try:
            ticket: Ticket = await store(ticket_store.get, ticket_id)
        except TicketNotFound:
            raise NotFound(f"no ticket {ticket_id}") from None
        return ticket

    if identities is not None:
        # Behind require_login like every route of this app.
        app.blueprint(linked_conversations_blueprint(identities))

    async def linked_conversations(conversation_id: str) -> list[LinkedConversation]:
        if identities is None:
            return []
        try:
            await store(identities.create_schema)
            found = await store(identities.linked_conversations, conversation_id)
        except SQLAlchemyError as exc:  # the ticket matters more than the cross-channel list
            logger.warning("linked conversations of %s unavailable: %s", conversation_id, exc)
            return []
        return [c for c in found if c.conversation_id != conversation_id]

    @app.get("/tickets/<ticket_id:int>")
    async def ticket_page(request: Request, ticket_id: int) -> HTTPResponse:
        ticket = await load_ticket(ticket_id)
        messages: list[Message] = await store(ticket_store.messages, ticket_id)
        elsewhere = await linked_conversations(ticket.conversation_id)
        transcript_error = None
        try:
            transcript = _transcript(await rasa_api.tracker(ticket.conversation_id))
        except RasaApiError as exc:
            logger.warning("transcript of ticket %s unavailable: %s", ticket_id, exc)
            transcript, transcript_error = [], "The conversation transcript is unavailable."
        return render(
            request,
            "ticket.html",
            ticket=ticket,
            waiting=now() - ticket.created_at,
            transcript=transcript,
            transcript_error=transcript_error,
            messages=messages,
            agents=agents,
            elsewhere=elsewhere,
            notice=request.args.get("notice"),
            can=_allowed_actions(ticket),
        )

    @app.get("/tickets/<ticket_id:int>/messages")
    async def ticket_messages(request: Request, ticket_id: int) -> HTTPResponse:
        """Polled every few seconds by the ticket page: what is new since the last poll.

        ``after`` is the last handoff message id the page has, ``events_after`` the number of
        transcript lines it has; either may be left out. The transcript part is skipped, not
        failed, when Rasa does not answer, so the page keeps polling the console's own data.
        """
        ticket = await load_ticket(ticket_id)
        after = _int_arg(request, "after")
        events_after = _int_arg(request, "events_after")
        messages: list[Message] = await store(ticket_store.messages, ticket_id)
        body: dict[str, Any] = {
            "status": ticket.status,
            "agent": ticket.agent,
            "messages": [
                {"id": m.id, "sender": m.sender, "text": m.text, "at": m.at.isoformat()}
                for m in messages
                if m.id > after
            ],
        }
        if "events_after" in request.args:
            try:
                lines = _transcript(await rasa_api.tracker(ticket.conversation_id))
                body["transcript"] = lines[events_after:]
                body["transcript_length"] = len(lines)
            except RasaApiError:
                body["transcript"] = None
        return sanic_json(body)

    def back(ticket_id: int, notice: str | None = None) -> HTTPResponse:
        query = "?" + urlencode({"notice": notice}) if notice else ""
        return redirect(f"/tickets/{ticket_id}{query}", status=303)

    def conflict(request: Request, message: str, status: int = 409) -> HTTPResponse:
        return render(request, "error.html", status, message=message)

    @app.post("/tickets/<ticket_id:int>/reply")
    async def reply(request: Request, ticket_id: int) -> HTTPResponse:
        ticket = await load_ticket(ticket_id)
        text = ((request.form or {}).get("text") or "").strip()
        if not text:
            return back(ticket_id, "Write a message first.")
        if len(text) > MAX_REPLY_CHARS:
            return conflict(request, f"Replies are limited to {MAX_REPLY_CHARS} characters.", 413)
        if ticket.status == CLOSED:
            return conflict(request, "This ticket is closed; the customer is with the bot again.")
        try:
            await rasa_api.send_agent_message(
                ticket.conversation_id, text, ticket.channel or LATEST
            )
        except RasaApiError as exc:
            logger.error("reply on ticket %s not delivered: %s", ticket_id, exc)
            return conflict(request, "The reply could not be delivered (Rasa error); retry.", 502)
        await store(ticket_store.append_message, ticket_id, "agent", text, now())
        return back(ticket_id)

    @app.post("/tickets/<ticket_id:int>/take")
    async def take(request: Request, ticket_id: int) -> HTTPResponse:
        agent: Agent = request.ctx.agent
        try:
            await store(ticket_store.update_status, ticket_id, ASSIGNED, agent.username)
        except TicketNotFound:
            raise NotFound(f"no ticket {ticket_id}") from None
        except InvalidTransition:
            return conflict(request, "Someone else has this ticket, or it is no longer open.")
        return back(ticket_id)

    async def hand_back(
        request: Request, ticket_id: int, status: str, intent: str | None
    ) -> HTTPResponse:
        ticket = await load_ticket(ticket_id)
        if ticket.status != status:
            try:
                ticket = await store(ticket_store.update_status, ticket_id, status)
            except InvalidTransition:
                return conflict(request, f"A {ticket.status} ticket cannot be {status}.")
        try:
            await rasa_api.resume(ticket.conversation_id)
            if intent:
                await rasa_api.trigger_intent(
                    ticket.conversation_id, intent, ticket.channel or LATEST
                )
        except RasaApiError as exc:
            logger.error("ticket %s is %s but the bot was not resumed: %s", ticket_id, status, exc)
            return conflict(
                request,
                f"The ticket is {status}, but the bot could not take over (Rasa error). "
                "Press the button again to retry.",
                502,
            )
        return back(ticket_id)

    @app.post("/tickets/<ticket_id:int>/resolve")
    async def resolve(request: Request, ticket_id: int) -> HTTPResponse:
        return await hand_back(request, ticket_id, RESOLVED, RESOLVED_INTENT)

    @app.post("/tickets/<ticket_id:int>/close")
    async def close(request: Request, ticket_id: int) -> HTTPResponse:
        return await hand_back(request, ticket_id, CLOSED, None)

    return app


# ------------------------------------------------------------------------------------------
# Helpers


def _transcript(tracker: Mapping[str, Any]) -> list[dict[str, Any]]:
    """User and bot turns of a tracker, for the agent; agent replies are bot events we tagged."""
    lines: list[dict[str, Any]] = []
    for event in tracker.get("events") or []:
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        metadata = event.get("metadata") or {}
        sender = "customer" if kind == "user" else "bot"
        if kind == "bot" and isinstance(metadata, Mapping) and metadata.get("sender") == "agent":
            sender = "agent"
        timestamp = event.get("timestamp")
        at = (
            datetime.fromtimestamp(float(timestamp), timezone.utc).isoformat()
            if isinstance(timestamp, int | float)
            else None
        )
        lines.append({"sender": sender, "text": str(event["text"]), "at": at})
    return lines


def _allowed_actions(ticket: Ticket) -> dict[str, bool]:
    targets = TRANSITIONS[ticket.status]
    return {
        "take": ASSIGNED in targets,
        "resolve": RESOLVED in targets or ticket.status == RESOLVED,
        "close": CLOSED in targets or ticket.status == CLOSED,
        "reply": ticket.status != CLOSED,
    }


def _int_arg(request: Request, name: str) -> int:
    try:
        return max(0, int(request.args.get(name, "0")))
    except ValueError:
        return 0


def _safe_next(target: str) -> str:
    """Only local paths after login: ``//evil.example`` or a full URL would be an open redirect."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def _when(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# ------------------------------------------------------------------------------------------
# Entry point


def main(argv: list[str] | None = None) -> None:
    """Run the console.

    Environment: ``CONSOLE_SECRET`` (required, ≥ 16 characters), ``CONSOLE_PORT`` (8080),
    ``CONSOLE_HOST`` (127.0.0.1), ``CONSOLE_AGENTS_FILE`` (demo/agents.yml),
    ``CONSOLE_SECURE_COOKIES`` (1 behind HTTPS), ``HANDOFF_DATABASE_URL``
    (sqlite:///var/handoff.db), ``RASA_URL`` (http://localhost:5005), ``RASA_AUTH_TOKEN``.
    """
    parser = argparse.ArgumentParser(description="Borderless agent console")
    parser.add_argument("--host", default=os.environ.get("CONSOLE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8080")))
    args = parser.parse_args(argv)
    secret = os.environ.get("CONSOLE_SECRET", "")
    if len(secret) < 16:
        parser.error("set CONSOLE_SECRET to a random string of at least 16 characters")
    database_url = os.environ.get("HANDOFF_DATABASE_URL", "sqlite:///var/handoff.db")
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app = create_console_app(
        TicketStore(database_url),
        RasaHttpApi(
            os.environ.get("RASA_URL", "http://localhost:5005"),
            os.environ.get("RASA_AUTH_TOKEN") or None,
        ),
        load_agents(os.environ.get("CONSOLE_AGENTS_FILE", "demo/agents.yml")),
        secret,
        secure_cookies=os.environ.get("CONSOLE_SECURE_COOKIES", "") in ("1", "true", "yes"),
        identities=IdentityStore(database_url),
    )
    logging.basicConfig(level=logging.INFO)
    app.run(host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
