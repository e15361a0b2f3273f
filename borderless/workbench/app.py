"""The trainer workbench: a Sanic app with server-rendered pages and a small JSON API.

Pages (all behind the login, :mod:`borderless.workbench.auth`): ``/`` the inbox, ``/conversations``
the review with filters, ``/conversations/<id>`` one conversation (``/conversations/<id>/story``
saves it as a test story, :mod:`.stories`), ``/annotate/<event id>`` the
keyboard-driven annotation view, ``/export`` the diff and the export, ``/retrain`` training,
comparison and activation. The JSON API under ``/api`` is what the pages' scripts call and what
the tests drive; every POST needs the session's CSRF token (form field or ``X-CSRF-Token``).

Personal data: every text that leaves the server passes :func:`review.redaction` for the
trainer's permission; offsets a trainer sends refer to the text they were shown and are mapped
back to the original before storing. Exports synthesize personal data whatever the permission.

The tracker store, the annotation table and file exports are synchronous, so they run in
worker threads; retraining runs in its own thread with subprocesses (:mod:`.retrain`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from jinja2 import Environment, FileSystemLoader
from sanic import Request, Sanic
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, html, redirect
from sanic.response import json as sanic_json

from borderless.handoff.auth import (
    SESSION_MAX_AGE,
    LoginRateLimiter,
    Session,
    SessionSigner,
    clear_session_cookie,
    set_session_cookie,
)
from borderless.i18n.language import SUPPORTED_LANGUAGES
from borderless.settings import PROJECT_ROOT
from borderless.workbench import export, review, stories
from borderless.workbench.annotations import (
    AnnotationError,
    AnnotationStore,
    EntitySpan,
    validate,
)
from borderless.workbench.auth import (
    COOKIE_NAME,
    SEE_PERSONAL_DATA,
    Trainer,
    authenticate,
    load_trainers,
)
from borderless.workbench.conversations import OUTCOMES, Filters, TrackerReader
from borderless.workbench.retrain import RasaModelServer, RasaServerError, Retrainer

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MAX_BODY_BYTES = 64 * 1024
RESPONSE_TIMEOUT = 900
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


def domain_labels(domain_file: Path) -> tuple[list[str], list[str]]:
    """Intents a trainer may choose (not the EXTERNAL_ ones only code sends) and entities."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    intents = [
        (next(iter(i)) if isinstance(i, dict) else str(i)) for i in domain.get("intents") or []
    ]
    entities = [
        (next(iter(e)) if isinstance(e, dict) else str(e)) for e in domain.get("entities") or []
    ]
    return [i for i in intents if not i.startswith("EXTERNAL_")], entities


def create_workbench_app(
    reader: TrackerReader,
    store: AnnotationStore,
    trainers: Mapping[str, Trainer],
    secret: str,
    retrainer: Retrainer,
    *,
    root: Path = PROJECT_ROOT,
    validator: export.Validator = export.rasa_validate,
    story_validator: stories.StoryValidator = stories.domain_check,
    clock: Callable[[], float] = time.time,
    rate_limiter: LoginRateLimiter | None = None,
    secure_cookies: bool = False,
    create_schema: bool = True,
) -> Sanic:
    signer = SessionSigner(secret, SESSION_MAX_AGE, clock)
    limiter = rate_limiter or LoginRateLimiter(clock=clock)
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app = Sanic(f"borderless-workbench-{next(_app_ids)}")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    # An export waits for `rasa data validate`, an activation for Rasa to load the model: on a
    # busy machine either can take minutes, past Sanic's 60 s default.
    app.config.RESPONSE_TIMEOUT = RESPONSE_TIMEOUT
    app.static("/static", str(HERE / "static"), name="workbench_static")

    def labels() -> tuple[list[str], list[str]]:
        return domain_labels(root / "domain.yml")

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTTPResponse:
        session: Session | None = getattr(request.ctx, "session", None)
        page = templates.get_template(name).render(
            trainer=getattr(request.ctx, "trainer", None),
            csrf_token=signer.csrf_token(session) if session else "",
            **context,
        )
        return html(page, status=status)

    async def call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(method, *args, **kwargs)

    def sees(request: Request) -> bool:
        return bool(request.ctx.trainer.can(SEE_PERSONAL_DATA))

    def api_error(message: str, status: int = 400) -> HTTPResponse:
        return sanic_json({"error": message}, status=status)

    if create_schema:

        @app.before_server_start
        async def prepare_database(_app: Sanic, _loop: Any) -> None:
            await call(store.create_schema)

    @app.on_request
    async def require_login(request: Request) -> HTTPResponse | None:
        if request.path.startswith(PUBLIC_PATHS):
            return None
        session = signer.read(request.cookies.get(COOKIE_NAME))
        trainer = trainers.get(session.username) if session else None
        if session is None or trainer is None:
            if request.path.startswith("/api/"):
                return api_error("login required", 401)
            return redirect("/login?" + urlencode({"next": _safe_next(request.path)}), status=303)
        request.ctx.session = session
        request.ctx.trainer = trainer
        if request.method == "POST":
            token = None
            if request.content_type.startswith(("application/x-www-form", "multipart/")):
                token = request.form.get("csrf_token") if request.form else None
            if not signer.check_csrf(session, token or request.headers.get("x-csrf-token")):
                if request.path.startswith("/api/"):
                    return api_error("invalid or missing CSRF token", 403)
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
                request, "login.html", 429, next=target, username=username,
                error="Too many failed logins. Wait a minute and try again.",
            )  # fmt: skip
        password = form.get("password") or ""
        trainer = await asyncio.to_thread(authenticate, trainers, username, password)
        if trainer is None:
            limiter.failed(client)
            return render(
                request, "login.html", 401, next=target, username=username,
                error="Wrong username or password, or no trainer role.",
            )  # fmt: skip
        limiter.succeeded(client)
        cookie, _session = signer.issue(trainer.username)
        response = redirect(target, status=303)
        set_session_cookie(response, COOKIE_NAME, cookie, signer.max_age, secure_cookies)
        return response

    @app.route("/logout", methods=["GET", "POST"])
    async def logout(_request: Request) -> HTTPResponse:
        response = redirect("/login", status=303)
        clear_session_cookie(response, COOKIE_NAME)
        return response

    @app.get("/api/session")
    async def api_session(request: Request) -> HTTPResponse:
        trainer: Trainer = request.ctx.trainer
        return sanic_json(
            {
                "username": trainer.username,
                "roles": sorted(trainer.roles),
                "csrf_token": signer.csrf_token(request.ctx.session),
            }
        )

    # -- review ------------------------------------------------------------------------------

    async def load_inbox(request: Request) -> list[review.InboxItem]:
        conversations = await call(reader.conversations, None)
        annotations = await call(store.all)
        return review.inbox(
            conversations,
            {a.event_id: a for a in annotations},
            include_annotated=request.args.get("all") == "1",
        )

    def inbox_view(request: Request, items: list[review.InboxItem]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            view = review.message_view(item.message, None, sees(request))
            view.update(
                reasons=item.reasons, duplicates=item.duplicates, score=round(item.score, 3)
            )
            out.append(view)
        return out

    @app.get("/api/inbox")
    async def api_inbox(request: Request) -> HTTPResponse:
        return sanic_json({"items": inbox_view(request, await load_inbox(request))})

    @app.get("/")
    async def inbox_page(request: Request) -> HTTPResponse:
        items = inbox_view(request, await load_inbox(request))
        return render(request, "inbox.html", items=items, show_all=request.args.get("all") == "1")

    async def filtered(request: Request) -> tuple[Filters | None, list[Any], str | None]:
        try:
            filters = Filters.from_args(request.args)
        except ValueError as exc:
            return None, [], str(exc)
        return filters, await call(reader.conversations, filters), None

    @app.get("/api/conversations")
    async def api_conversations(request: Request) -> HTTPResponse:
        _filters, conversations, error = await filtered(request)
        if error:
            return api_error(error)
        return sanic_json(
            {
                "conversations": [
                    review.conversation_summary(c, sees(request)) for c in conversations
                ]
            }
        )

    @app.get("/conversations")
    async def conversations_page(request: Request) -> HTTPResponse:
        _filters, conversations, error = await filtered(request)
        intents, _entities = labels()
        return render(
            request,
            "conversations.html",
            conversations=[review.conversation_summary(c, sees(request)) for c in conversations],
            error=error,
            args={k: request.args.get(k, "") for k in Filters.__dataclass_fields__},
            languages=SUPPORTED_LANGUAGES,
            outcomes=OUTCOMES,
            intents=intents,
        )

    async def conversation_view(request: Request, sender_id: str) -> dict[str, Any]:
        conversation = await call(reader.conversation, sender_id)
        if conversation is None:
            raise NotFound("no such conversation")
        annotations = await call(store.for_events, [m.event_id for m in conversation.messages])
        summary = review.conversation_summary(conversation, sees(request))
        summary["turns"] = [
            review.message_view(m, annotations.get(m.event_id), sees(request))
            for m in conversation.messages
        ]
        return summary

    @app.get("/api/conversations/<sender_id:str>")
    async def api_conversation(request: Request, sender_id: str) -> HTTPResponse:
        try:
            return sanic_json(await conversation_view(request, sender_id))
        except NotFound:
            return api_error("no such conversation", 404)

    @app.get("/conversations/<sender_id:str>")
    async def conversation_page(request: Request, sender_id: str) -> HTTPResponse:
        return render(
            request,
            "conversation.html",
            conversation=await conversation_view(request, sender_id),
            sender_id=sender_id,
        )

    # -- save as test story -----------------------------------------------------------------

    async def story_plan(sender_id: str) -> stories.StoryPlan:
        conversation = await call(reader.conversation, sender_id)
        if conversation is None:
            raise NotFound("no such conversation")
        annotations = await call(store.for_events, [m.event_id for m in conversation.messages])
        return await call(stories.plan, conversation, annotations, root)

    async def save_story(sender_id: str) -> tuple[stories.StoryPlan, export.Validation]:
        plan = await story_plan(sender_id)
        return plan, await call(stories.apply, plan, story_validator)

    @app.get("/api/conversations/<sender_id:str>/story")
    async def api_story_diff(_request: Request, sender_id: str) -> HTTPResponse:
        return sanic_json((await story_plan(sender_id)).as_dict(root))

    @app.post("/api/conversations/<sender_id:str>/story")
    async def api_story_save(_request: Request, sender_id: str) -> HTTPResponse:
        plan, result = await save_story(sender_id)
        body = plan.as_dict(root)
        body.update(written=result.ok and plan.changed, valid=result.ok, output=result.output)
        return sanic_json(body, status=200 if result.ok else 422)

    @app.get("/conversations/<sender_id:str>/story")
    async def story_page(request: Request, sender_id: str) -> HTTPResponse:
        plan = await story_plan(sender_id)
        return render(request, "story.html", sender_id=sender_id, plan=plan.as_dict(root))

    @app.post("/conversations/<sender_id:str>/story")
    async def story_submit(request: Request, sender_id: str) -> HTTPResponse:
        plan, result = await save_story(sender_id)
        return render(
            request,
            "story.html",
            200 if result.ok else 422,
            sender_id=sender_id,
            plan=plan.as_dict(root),
            result=result,
            current=(await story_plan(sender_id)).as_dict(root),
        )

    # -- annotate ----------------------------------------------------------------------------

    @app.get("/annotate/<event_id:int>")
    async def annotate_page(request: Request, event_id: int) -> HTTPResponse:
        message = await call(reader.message, event_id)
        if message is None:
            raise NotFound("no such message")
        annotation = await call(store.get, event_id)
        view = review.message_view(message, annotation, sees(request))
        items = await load_inbox(request)
        ids = [i.message.event_id for i in items]
        following = [i for i in ids if i != event_id]
        if event_id in ids:
            position = ids.index(event_id)
            following = ids[position + 1 :]
        intents, entities = labels()
        return render(
            request,
            "annotate.html",
            message=view,
            intents=intents,
            entities=entities,
            languages=SUPPORTED_LANGUAGES,
            next_url=f"/annotate/{following[0]}" if following else "/",
            remaining=len(following),
        )

    @app.post("/api/annotations")
    async def api_annotate(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else None
        if body is None:
            return api_error("send a JSON object")
        try:
            event_id = int(body["event_id"])
            intent = str(body["intent"])
            spans = [
                (int(e["start"]), int(e["end"]), str(e["entity"]))
                for e in body.get("entities") or []
            ]
        except (KeyError, TypeError, ValueError):
            return api_error("event_id, intent and entities [{start, end, entity}] are required")
        message = await call(reader.message, event_id)
        if message is None:
            return api_error("no such message", 404)
        shown = review.redaction(message.text, sees(request))
        if "text" in body and body["text"] != shown.text:
            return api_error("the message changed since it was shown; reload", 409)
        language = str(body.get("language") or message.language or "")
        try:
            original = [EntitySpan(*shown.to_original(s, e), name) for s, e, name in spans]
            intents, entities = labels()
            checked = validate(
                message.text, intent, original, language, intents=intents, entity_names=entities
            )
        except (ValueError, AnnotationError) as exc:
            return api_error(str(exc), 422)
        annotation = await call(
            store.save,
            event_id=event_id,
            sender_id=message.sender_id,
            text=message.text,
            language=language,
            predicted_intent=message.top_intent,
            intent=intent,
            entities=checked,
            annotator=request.ctx.trainer.username,
        )
        return sanic_json(review.annotation_view(annotation, shown))

    # -- export ------------------------------------------------------------------------------

    async def export_plan() -> export.Plan:
        annotations = await call(store.all)
        return await call(export.plan, annotations, root)

    @app.get("/api/export")
    async def api_export_diff(_request: Request) -> HTTPResponse:
        return sanic_json((await export_plan()).as_dict(root))

    async def run_export() -> tuple[export.Plan, export.Validation]:
        plan = await export_plan()
        result = await call(export.apply, plan, root, validator)
        return plan, result

    @app.post("/api/export")
    async def api_export(_request: Request) -> HTTPResponse:
        plan, result = await run_export()
        body = plan.as_dict(root)
        body.update(written=result.ok and plan.changed, valid=result.ok, output=result.output)
        return sanic_json(body, status=200 if result.ok else 422)

    @app.get("/export")
    async def export_page(request: Request) -> HTTPResponse:
        return render(request, "export.html", plan=(await export_plan()).as_dict(root))

    @app.post("/export")
    async def export_submit(request: Request) -> HTTPResponse:
        plan, result = await run_export()
        return render(
            request,
            "export.html",
            200 if result.ok else 422,
            plan=plan.as_dict(root),
            result=result,
            current=(await export_plan()).as_dict(root),
        )

    # -- retrain -----------------------------------------------------------------------------

    @app.get("/api/retrain")
    async def api_retrain_state(_request: Request) -> HTTPResponse:
        return sanic_json(retrainer.state.as_dict())

    @app.post("/api/retrain")
    async def api_retrain(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        mode = (body or {}).get("mode") or (request.form or {}).get("mode") or "full"
        if mode not in ("full", "finetune"):
            return api_error("mode must be full or finetune")
        if not retrainer.start(mode):
            return api_error("a retrain is already running", 409)
        return sanic_json(retrainer.state.as_dict(), status=202)

    async def decide(request: Request, what: str) -> HTTPResponse:
        try:
            await call(retrainer.activate if what == "activate" else retrainer.discard)
        except RasaServerError as exc:
            if request.path.startswith("/api/"):
                return api_error(str(exc), 409)
            return render(request, "error.html", 409, message=str(exc))
        if request.path.startswith("/api/"):
            return sanic_json(retrainer.state.as_dict())
        return redirect("/retrain", status=303)

    @app.post("/api/retrain/activate")
    async def api_activate(request: Request) -> HTTPResponse:
        return await decide(request, "activate")

    @app.post("/api/retrain/discard")
    async def api_discard(request: Request) -> HTTPResponse:
        return await decide(request, "discard")

    @app.get("/retrain")
    async def retrain_page(request: Request) -> HTTPResponse:
        return render(request, "retrain.html", job=retrainer.state.as_dict())

    @app.post("/retrain")
    async def retrain_submit(request: Request) -> HTTPResponse:
        retrainer.start((request.form or {}).get("mode") or "full")
        return redirect("/retrain", status=303)

    @app.post("/retrain/activate")
    async def activate_submit(request: Request) -> HTTPResponse:
        return await decide(request, "activate")

    @app.post("/retrain/discard")
    async def discard_submit(request: Request) -> HTTPResponse:
        return await decide(request, "discard")

    @app.exception(NotFound)
    async def not_found(request: Request, exc: Exception) -> HTTPResponse:
        if request.path.startswith("/api/"):
            return api_error(str(exc), 404)
        return render(request, "error.html", 404, message=str(exc))

    return app


def _safe_next(target: str) -> str:
    """Only local paths after login: ``//evil.example`` or a full URL would be an open redirect."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def main(argv: list[str] | None = None) -> None:
    """Run the workbench.

    Environment: ``WORKBENCH_SECRET`` (≥ 16 characters), ``WORKBENCH_PORT`` (8081),
    ``WORKBENCH_TRAINERS_FILE`` (demo/trainers.yml), ``WORKBENCH_DATABASE_URL``
    (sqlite:///var/workbench.db), ``TRACKER_STORE_URL``, ``RASA_URL``, ``RASA_AUTH_TOKEN``,
    ``WORKBENCH_SECURE_COOKIES`` (1 behind HTTPS), ``WORKBENCH_PROJECT`` (the project folder whose
    data/ and models/ it works on; default: this checkout).
    """
    parser = argparse.ArgumentParser(description="Borderless trainer workbench")
    parser.add_argument("--host", default=os.environ.get("WORKBENCH_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WORKBENCH_PORT", "8081")))
    args = parser.parse_args(argv)
    secret = os.environ.get("WORKBENCH_SECRET", "")
    if len(secret) < 16:
        parser.error("set WORKBENCH_SECRET to a random string of at least 16 characters")
    root = Path(os.environ.get("WORKBENCH_PROJECT") or PROJECT_ROOT)
    database_url = os.environ.get("WORKBENCH_DATABASE_URL", "sqlite:///var/workbench.db")
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        database_url = f"sqlite:///{root / database_url.removeprefix('sqlite:///')}"
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    tracker_url = os.environ.get("TRACKER_STORE_URL", "sqlite:///var/tracker.db")
    if tracker_url.startswith("sqlite:///") and not tracker_url.startswith("sqlite:////"):
        tracker_url = f"sqlite:///{root / tracker_url.removeprefix('sqlite:///')}"
    store = AnnotationStore(database_url)
    model_server = RasaModelServer(
        os.environ.get("RASA_URL", "http://localhost:5005"),
        os.environ.get("RASA_AUTH_TOKEN") or None,
    )
    trainers_file = Path(os.environ.get("WORKBENCH_TRAINERS_FILE", "demo/trainers.yml"))
    app = create_workbench_app(
        TrackerReader(tracker_url),
        store,
        load_trainers(trainers_file if trainers_file.is_absolute() else root / trainers_file),
        secret,
        Retrainer(root, model_server, store.all),
        root=root,
        secure_cookies=os.environ.get("WORKBENCH_SECURE_COOKIES", "") in ("1", "true", "yes"),
    )
    logging.basicConfig(level=logging.INFO)
    app.run(host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
