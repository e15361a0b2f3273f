from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from borderless.handoff.routing import RoutingMode, priority, route
from borderless.handoff.teams import Team, parse_team

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
DUBAI = ZoneInfo("Asia/Dubai")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
# A week without public holidays in any demo team's country: Mon 8 … Sun 14 June 2026.
TUESDAY_10_BERLIN = datetime(2026, 6, 9, 10, 0, tzinfo=BERLIN)
SATURDAY_NIGHT = datetime(2026, 6, 13, 18, 0, tzinfo=UTC)  # every demo team is closed


def test_native_team_on_duty(teams: tuple[Team, ...]) -> None:
    routing = route("de-DE", TUESDAY_10_BERLIN, teams)
    assert routing.mode is RoutingMode.NATIVE
    assert routing.team is not None and routing.team.key == "berlin"
    assert routing.language == "de"
    assert routing.reply_by is None
    assert not routing.switches_language


def test_japanese_at_night_is_queued_until_tokyo_opens(teams: tuple[Team, ...]) -> None:
    monday_3am = datetime(2026, 6, 8, 3, 0, tzinfo=TOKYO)  # Sunday evening everywhere west
    routing = route("ja", monday_3am, teams)
    assert routing.mode is RoutingMode.QUEUED
    assert routing.team is not None and routing.team.key == "tokyo"
    assert routing.language == "ja"
    assert routing.reply_by == datetime(2026, 6, 8, 10, 0, tzinfo=TOKYO)


def test_japanese_at_night_on_a_weekday_gets_english_from_a_team_on_duty(
    teams: tuple[Team, ...],
) -> None:
    wednesday_3am = datetime(2026, 6, 10, 3, 0, tzinfo=TOKYO)  # Tuesday 15:00 in São Paulo
    routing = route("ja", wednesday_3am, teams)
    assert routing.mode is RoutingMode.ENGLISH_FALLBACK
    assert routing.team is not None and routing.team.key == "sao_paulo"
    assert routing.language == "en"
    assert routing.switches_language  # the customer must be told


def test_italian_has_no_team_so_english_from_the_first_team_on_duty(
    teams: tuple[Team, ...],
) -> None:
    routing = route("it", TUESDAY_10_BERLIN, teams)  # 16:00 in Shenzhen, listed first
    assert routing.mode is RoutingMode.ENGLISH_FALLBACK
    assert routing.team is not None and routing.team.key == "shenzhen"
    assert routing.language == "en"


def test_a_language_the_customer_also_reads_beats_english(teams: tuple[Team, ...]) -> None:
    routing = route("it", TUESDAY_10_BERLIN, teams, also_speaks=["fr-CH", "es"])
    assert routing.mode is RoutingMode.SHARED_LANGUAGE
    assert routing.team is not None and routing.team.key == "berlin"
    assert routing.language == "fr"
    assert routing.switches_language


def test_italian_when_nobody_is_on_duty_waits_for_the_first_english_team(
    teams: tuple[Team, ...],
) -> None:
    routing = route("it", SATURDAY_NIGHT, teams)
    assert routing.mode is RoutingMode.QUEUED
    assert routing.team is not None and routing.team.key == "dubai"  # Sunday is a workday there
    assert routing.language == "en"
    assert routing.reply_by == datetime(2026, 6, 14, 9, 0, tzinfo=DUBAI)


def test_arabic_on_a_friday_dubai_is_closed(teams: tuple[Team, ...]) -> None:
    friday_morning = datetime(2026, 6, 12, 10, 0, tzinfo=DUBAI)  # 14:00 in Shenzhen
    routing = route("ar", friday_morning, teams)
    assert routing.mode is RoutingMode.ENGLISH_FALLBACK
    assert routing.team is not None and routing.team.key == "shenzhen"

    saturday_evening = datetime(2026, 6, 13, 22, 0, tzinfo=DUBAI)
    queued = route("ar", saturday_evening, teams)
    assert queued.mode is RoutingMode.QUEUED
    assert queued.team is not None and queued.team.key == "dubai"
    assert queued.language == "ar"
    assert queued.reply_by == datetime(2026, 6, 14, 9, 0, tzinfo=DUBAI)


def test_queued_waits_for_a_native_team_even_if_english_opens_first(
    teams: tuple[Team, ...],
) -> None:
    # Dubai opens on Sunday morning, but São Paulo speaks Portuguese from Monday 09:00
    routing = route("pt", SATURDAY_NIGHT, teams)
    assert routing.mode is RoutingMode.QUEUED
    assert routing.team is not None and routing.team.key == "sao_paulo"
    assert routing.reply_by == datetime(2026, 6, 15, 9, 0, tzinfo=SAO_PAULO)


def test_no_team_opening_within_the_horizon_promises_no_time() -> None:
    never = parse_team(
        "never", {"languages": ["en"], "timezone": "UTC", "hours": {"mon": "09:00-10:00"}}
    )
    routing = route("en", datetime(2026, 6, 9, tzinfo=UTC), [never], horizon=timedelta(days=3))
    assert routing.mode is RoutingMode.QUEUED
    assert routing.team is None and routing.reply_by is None


def test_priority_scale_orders_sensitive_then_upset_then_vip() -> None:
    ranked = {
        "safety": priority("Safety", 0.1, vip=False),
        "calm chargeback": priority("chargeback", 0.0, vip=False),
        "furious vip complaint": priority("complaint", 1.0, vip=True),
        "calm vip complaint": priority("complaint", 0.0, vip=True),
        "frustrated request": priority("order_status", 0.7, vip=False),
        "calm vip": priority("order_status", 0.2, vip=True),
        "annoyed request": priority("order_status", 0.69, vip=False),
        "plain request": priority("order_status", 0.0, vip=False),
    }
    assert list(ranked) == sorted(ranked, key=ranked.__getitem__, reverse=True)
    assert ranked["calm chargeback"] > ranked["furious vip complaint"]
    assert priority("legal", 0.5, vip=True) > priority("legal", 0.5, vip=False)


@pytest.mark.parametrize("frustration", [float("nan"), -3.0])
def test_invalid_frustration_counts_as_calm(frustration: float) -> None:
    assert priority("order_status", frustration, vip=False) == 0
    assert priority("order_status", 7.0, vip=False) == priority("order_status", 1.0, vip=False)
