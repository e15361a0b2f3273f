"""Rasa's response generator, localized: the English response from the domain, translated.

Configured in ``endpoints.yml`` as ``nlg: {type: borderless.i18n.nlg.CatalogNLG}``; Rasa builds it
in-process, so a localized reply costs a dictionary lookup, not an HTTP round trip. The language
is the ``language`` slot; arguments and slots are filled *after* translation, so a translator
moves ``{order_number}`` wherever the grammar of their language puts it.

This module is the only part of ``borderless.i18n`` that imports Rasa.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from borderless.i18n.catalog import Catalogs
from borderless.i18n.language import DEFAULT_LANGUAGE
from borderless.settings import Settings


class CatalogNLG(TemplatedNaturalLanguageGenerator):
    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        catalogs: Catalogs | None = None,
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)
        if catalogs is None:
            configured = (endpoint_config.kwargs if endpoint_config else {}).get("locales_dir")
            locales_dir = Path(configured) if configured else Settings.from_env().locales_dir
            catalogs = Catalogs.load(locales_dir)
        self.catalogs = catalogs

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        filled_slots = tracker.current_slot_values()
        return self.generate_localized(utter_action, filled_slots, output_channel, **kwargs)

    def generate_localized(
        self,
        utter_action: str,
        filled_slots: dict[str, Any],
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        response = self._random_response_for(utter_action, output_channel, filled_slots)
        if response is None:
            return None
        language = filled_slots.get("language") or DEFAULT_LANGUAGE
        localized = self.catalogs.localize(utter_action, copy.deepcopy(response), language)
        message = self._fill_response(localized, filled_slots, **kwargs)
        if message is not None:
            # Rasa keeps unknown keys as the bot event's metadata and passes them to the output
            # channel's send_* kwargs: WhatsApp picks the template language from it when the
            # 24-hour window has closed (borderless.channels._common.ConversationLanguages).
            message["language"] = language
        return message
