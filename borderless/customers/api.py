"""What an agent may ask about a customer: their conversations on every channel.

``GET /api/customers/linked/<conversation_id>`` answers
``{"conversation_id": ..., "customer": ... | null, "conversations": [{"channel",
"conversation_id", "order_number", "first_linked_at", "last_verified_at"}, ...]}``, newest
first, the asked one included; an unlinked conversation gets an empty list.

The blueprint carries no login of its own: it is meant to be mounted on the agent console's app
(``app.blueprint(linked_conversations_blueprint(store))``), whose ``require_login`` request
middleware guards every route of the app, blueprints included. Never mount it on a public app.
"""

from __future__ import annotations

import asyncio

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from borderless.customers.identities import IdentityStore

MAX_CONVERSATION_ID = 255


def linked_conversations_blueprint(store: IdentityStore) -> Blueprint:
    blueprint = Blueprint("customer_links", url_prefix="/api/customers")
    ready: list[bool] = []

    def lookup(conversation_id: str) -> list[dict[str, str]]:
        if not ready:
            store.create_schema()
            ready.append(True)
        return [c.as_json() for c in store.linked_conversations(conversation_id)]

    @blueprint.get("/linked/<conversation_id:str>")
    async def linked(_: Request, conversation_id: str) -> HTTPResponse:
        if not conversation_id or len(conversation_id) > MAX_CONVERSATION_ID:
            return json({"error": "bad_conversation_id"}, status=400)
        conversations = await asyncio.to_thread(lookup, conversation_id)
        customers = {c["customer"] for c in conversations}
        return json(
            {
                "conversation_id": conversation_id,
                "customer": customers.pop() if len(customers) == 1 else None,
                "conversations": conversations,
            }
        )

    return blueprint
