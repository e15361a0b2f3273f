from __future__ import annotations

from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from borderless.services import Services
from borderless.settings import PROJECT_ROOT, Settings


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return dict(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text()))


@pytest.fixture
def services(shop_service: Any) -> Services:
    settings = Settings(shop_url=shop_service.base_url, shop_api_token=shop_service.api_token)
    return Services.from_settings(settings)


def make_tracker(domain: dict[str, Any], **slots: Any) -> Tracker:
    """A tracker as rasa-sdk receives it, with every domain slot at its initial value."""
    values = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    values.update(slots)
    return Tracker(
        sender_id="test-customer",
        slots=values,
        latest_message={"intent": {"name": "inform"}, "entities": [], "text": ""},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]
