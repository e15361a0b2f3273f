"""What every Borderless action shares: its services and the conversation language."""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker

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
