"""When the bot hands over on its own, and which tickets rank as VIP: ``demo/handoff_rules.yml``.

Three rules, all configuration, no model, so a shop owner can read and change them:

* **sensitive topics** (chargeback, legal, safety, …): a keyword/regex list per language; a
  message matching one hands over at once with the topic as the ticket's reason, which ranks
  first (:func:`borderless.handoff.routing.priority`). Every language's patterns are tried,
  the customer's own first: people write "chargeback" in a German sentence.
* **frustration**: a single message whose :func:`~borderless.handoff.frustration.frustration`
  score reaches the threshold hands over, whatever its intent (not only a ``complaint``).
* **VIP**: a verified order worth at least ``order_value`` in the shop currency (other
  currencies converted with the file's ``rates``), or at least ``previous_orders`` earlier
  orders; the ticket is flagged ``vip`` and ranks above calm ones.

Pure Python: the NLU component (``borderless.nlu.handoff_triggers``) applies the first two to
every message, the handoff action (through :class:`~borderless.handoff.desk.HandoffDesk`) the
third.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from borderless.handoff.frustration import frustration
from borderless.handoff.routing import FRUSTRATION_THRESHOLD

SENSITIVE, FRUSTRATION = "sensitive", "frustration"
#: The key of a message's parse data that carries its trigger (``Trigger.as_dict``).
TRIGGER_ATTRIBUTE = "handoff_trigger"
#: The reason a frustration trigger gives the ticket.
FRUSTRATION_REASON = "frustration"


class RulesError(ValueError):
    """The rules file is malformed; the message says where."""


@dataclass(frozen=True)
class Trigger:
    """Why a message hands over by itself; travels in the parse data as ``handoff_trigger``."""

    kind: str  # SENSITIVE or FRUSTRATION
    reason: str  # the topic, or FRUSTRATION_REASON
    score: float = 0.0
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "score": self.score,
            "details": list(self.details),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Trigger | None:
        """The trigger of a message's parse data, or ``None`` (also for anything malformed)."""
        if not isinstance(data, Mapping):
            return None
        kind, reason = data.get("kind"), data.get("reason")
        if kind not in (SENSITIVE, FRUSTRATION) or not isinstance(reason, str) or not reason:
            return None
        try:
            score = float(data.get("score") or 0.0)
        except (TypeError, ValueError):
            score = 0.0
        details = data.get("details") or ()
        return cls(kind, reason, score, tuple(str(d) for d in details if d is not None))


@dataclass(frozen=True)
class VipRule:
    currency: str = "USD"
    order_value: Decimal | None = None
    previous_orders: int | None = None
    rates: Mapping[str, Decimal] = field(default_factory=dict)

    def in_shop_currency(self, amount: Decimal, currency: str) -> Decimal | None:
        code = currency.upper()
        if code == self.currency:
            return amount
        rate = self.rates.get(code)
        return amount * rate if rate is not None else None

    def reasons(
        self, total: Decimal | None, currency: str | None, previous_orders: int | None
    ) -> tuple[str, ...]:
        """Why this customer is a VIP (empty: not one). Unknown facts never make a VIP."""
        found: list[str] = []
        if self.order_value is not None and total is not None and currency:
            value = self.in_shop_currency(total, currency)
            if value is not None and value >= self.order_value:
                found.append(f"order value {total} {currency.upper()}")
        if (
            self.previous_orders is not None
            and previous_orders is not None
            and previous_orders >= self.previous_orders
        ):
            found.append(f"{previous_orders} previous orders")
        return tuple(found)


@dataclass(frozen=True)
class HandoffRules:
    topics: Mapping[str, Mapping[str, tuple[re.Pattern[str], ...]]] = field(default_factory=dict)
    frustration_threshold: float = FRUSTRATION_THRESHOLD
    vip: VipRule = field(default_factory=VipRule)

    @property
    def sensitive_topics(self) -> frozenset[str]:
        return frozenset(self.topics)

    def sensitive_topic(self, text: str, language: str | None = None) -> tuple[str, str] | None:
        """``(topic, what matched)`` for the first topic a pattern finds in ``text``."""
        for topic, by_language in self.topics.items():
            languages = sorted(by_language, key=lambda code: code != language)  # own first
            for code in languages:
                for pattern in by_language[code]:
                    match = pattern.search(text)
                    if match:
                        return topic, match.group(0)
        return None

    def check(self, text: str, language: str | None, earlier: Sequence[str] = ()) -> Trigger | None:
        """The trigger of one customer message (``earlier``: their previous ones, oldest first).

        A sensitive topic wins over frustration: it says what the ticket is about.
        """
        if not text or not text.strip():
            return None
        found = self.sensitive_topic(text, language)
        if found is not None:
            topic, matched = found
            return Trigger(SENSITIVE, topic, details=(f"matched {matched!r}",))
        mood = frustration([*earlier, text], language or "en")
        if mood.score >= self.frustration_threshold:
            return Trigger(FRUSTRATION, FRUSTRATION_REASON, mood.score, mood.reasons)
        return None


def load_rules(path: Path) -> HandoffRules:
    """Read and validate the rules file; a bad regex or number names its place."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: cannot read handoff rules: {exc}") from exc
    if not isinstance(data, Mapping):
        raise RulesError(f"{path}: expected a mapping at the top")
    topics: dict[str, dict[str, tuple[re.Pattern[str], ...]]] = {}
    for topic, by_language in (data.get("sensitive") or {}).items():
        if not isinstance(by_language, Mapping):
            raise RulesError(f"{path}: sensitive.{topic}: expected languages → patterns")
        compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
        for language, patterns in by_language.items():
            if isinstance(patterns, str):
                patterns = [patterns]
            try:
                compiled[str(language)] = tuple(
                    re.compile(str(p), re.IGNORECASE) for p in patterns or ()
                )
            except re.error as exc:
                raise RulesError(f"{path}: sensitive.{topic}.{language}: {exc}") from exc
        topics[str(topic).strip().lower()] = compiled
    threshold = _number(
        (data.get("frustration") or {}).get("threshold", FRUSTRATION_THRESHOLD), path, "threshold"
    )
    vip_data = data.get("vip") or {}
    rates = {
        str(code).upper(): _decimal(rate, path, f"vip.rates.{code}")
        for code, rate in (vip_data.get("rates") or {}).items()
    }
    order_value = vip_data.get("order_value")
    previous = vip_data.get("previous_orders")
    vip = VipRule(
        currency=str(vip_data.get("currency") or "USD").upper(),
        order_value=_decimal(order_value, path, "vip.order_value")
        if order_value is not None
        else None,
        previous_orders=int(_number(previous, path, "vip.previous_orders"))
        if previous is not None
        else None,
        rates=rates,
    )
    return HandoffRules(topics, float(threshold), vip)


def _number(value: Any, path: Path, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RulesError(f"{path}: {where}: not a number: {value!r}") from None


def _decimal(value: Any, path: Path, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise RulesError(f"{path}: {where}: not a number: {value!r}") from None
