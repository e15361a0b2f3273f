"""What every Borderless action shares: its services and the conversation language."""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker

from borderless.customers.identities import PHONE_CHANNELS
from borderless.i18n.language import DEFAULT_LANGUAGE
from borderless.services import Services, default_services


class UsesServices:
    """Services injected by tests, or the process-wide ones built on first use."""

    def __init__(self, services: Services | None = None) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = default_services()
        return self._services


class BorderlessAction(UsesServices, Action, ABC):
    """Abstract, so rasa-sdk never registers it."""

    @abstractmethod
    def name(self) -> str: ...


def conversation_language(tracker: Tracker) -> str:
    return tracker.get_slot("language") or DEFAULT_LANGUAGE


def asked_text(tracker: Tracker, intents: tuple[str, ...]) -> str:
    """The customer's question: the last message with one of ``intents``, plus any later ones.

    A form may have asked a follow-up ("which product?"); the words of the question ("is it in
    stock?") and of the answer ("the scarf") together say what the customer wants to know.
    """
    users = [e for e in tracker.events if e.get("event") == "user"]
    for index in range(len(users) - 1, -1, -1):
        intent = ((users[index].get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in intents:
            return " ".join(str(e.get("text") or "") for e in users[index:])
    return str(tracker.latest_message.get("text") or "")


def verified_phone(tracker: Tracker) -> str | None:
    """The sender's phone number, only where the channel's connector set it after checking the
    platform's signature (WhatsApp); REST and widget clients write any metadata they like."""
    if tracker.get_latest_input_channel() not in PHONE_CHANNELS:
        return None
    phone = (tracker.latest_message.get("metadata") or {}).get("phone")
    return phone if isinstance(phone, str) and phone else None
