"""Which team takes a handoff, in which language, and how urgently.

The order of preference, for a customer writing in language L at instant T:

1. ``native``: a team that speaks L and is on duty at T;
2. ``shared_language``: a team on duty that speaks another language the customer is known to
   read (``also_speaks``, e.g. the browser's Accept-Language list), in the customer's order;
3. ``english_fallback``: a team on duty that speaks English. The customer did not choose
   English, so the reply must say so (:attr:`Routing.switches_language`);
4. ``queued``: nobody suitable is on duty. ``reply_by`` is the next opening of the first of
   those language tiers that some team covers (L, then ``also_speaks``, then English), so the
   customer hears an honest time, in their language and zone (``borderless.i18n.formatting``).

Several candidate teams are taken in configuration order: the file order is the preference.
Pure Python without Rasa, so the action server and the agent console can both use it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from borderless.handoff.teams import DEFAULT_HORIZON, NoOpening, Team

ENGLISH = "en"


class RoutingMode(str, Enum):
    NATIVE = "native"
    SHARED_LANGUAGE = "shared_language"
    ENGLISH_FALLBACK = "english_fallback"
    QUEUED = "queued"


@dataclass(frozen=True)
class Routing:
    """Where a handoff goes.

    ``language`` is what the agent will write in. For ``queued``, ``team`` is the team whose
    opening sets ``reply_by`` (the ticket waits in its queue); both are ``None`` only when no
    team at all opens within the search horizon, and then nobody can promise a time.
    """

    mode: RoutingMode
    language: str
    customer_language: str
    team: Team | None
    reply_by: datetime | None = None

    @property
    def switches_language(self) -> bool:
        """The customer must be told that a human will answer in another language."""
        return self.language != self.customer_language


def route(
    language: str,
    at: datetime,
    teams: Sequence[Team],
    also_speaks: Iterable[str] = (),
    horizon: timedelta = DEFAULT_HORIZON,
) -> Routing:
    """Route a handoff by the customer's ``language`` (a code or tag) at the instant ``at``."""
    customer = _primary(language)
    preferred = [customer, *(_primary(code) for code in also_speaks), ENGLISH]
    tiers = list(dict.fromkeys(preferred))  # de-duplicated, order kept
    for tier_language in tiers:
        for team in teams:
            if team.covers(tier_language) and team.is_open(at):
                return Routing(_mode(customer, tier_language), tier_language, customer, team)
    for tier_language in tiers:
        openings: list[tuple[datetime, int, Team]] = []
        for index, team in enumerate(teams):
            if not team.covers(tier_language):
                continue
            try:
                openings.append((team.next_opening(at, horizon), index, team))
            except NoOpening:
                continue
        if openings:
            reply_by, _, team = min(openings, key=lambda item: (item[0], item[1]))
            return Routing(RoutingMode.QUEUED, tier_language, customer, team, reply_by)
    return Routing(RoutingMode.QUEUED, customer, customer, None, None)


def _mode(customer: str, agent_language: str) -> RoutingMode:
    if agent_language == customer:
        return RoutingMode.NATIVE
    if agent_language == ENGLISH:
        return RoutingMode.ENGLISH_FALLBACK
    return RoutingMode.SHARED_LANGUAGE


def _primary(tag: str) -> str:
    """``"pt-BR"``, ``"zh_Hans"``, ``" DE "`` → the ISO 639-1 primary subtag teams list."""
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    if not primary:
        raise ValueError(f"not a language tag: {tag!r}")
    return primary


# --- priority -------------------------------------------------------------------------------

#: Topics where a slow or wrong answer costs money, a lawsuit or someone's safety.
SENSITIVE_REASONS = frozenset({"chargeback", "legal", "safety"})
COMPLAINT_REASONS = frozenset({"complaint"})
#: From this frustration score (0 … 1) on, the customer counts as upset.
FRUSTRATION_THRESHOLD = 0.7

_SENSITIVE = 400
_UPSET = 200
_VIP = 100
_FRUSTRATION_STEPS = 99


def priority(reason: str, frustration: float, vip: bool, sensitive: bool = False) -> int:
    """A queue rank, higher first; flags outrank each other so no mix of lower ones catches up.

    The scale is lexicographic, read as digits of weight:

    * +400 a sensitive topic: ``sensitive`` (the topics of ``demo/handoff_rules.yml``,
      :mod:`borderless.handoff.triggers`), or a reason in :data:`SENSITIVE_REASONS`;
    * +200 upset: a complaint, or frustration ≥ :data:`FRUSTRATION_THRESHOLD`;
    * +100 a VIP customer;
    * +0 … 99 the frustration score itself, breaking ties between equal flags.

    So any sensitive ticket (≥ 400) outranks an upset VIP (≤ 399), which outranks a calm VIP,
    which outranks a plain request (below 70). A missing or invalid score counts as calm.
    """
    topic = reason.strip().lower()
    score = 0.0 if math.isnan(frustration) else min(max(frustration, 0.0), 1.0)
    rank = round(score * _FRUSTRATION_STEPS)
    if sensitive or topic in SENSITIVE_REASONS:
        rank += _SENSITIVE
    if topic in COMPLAINT_REASONS or score >= FRUSTRATION_THRESHOLD:
        rank += _UPSET
    if vip:
        rank += _VIP
    return rank
