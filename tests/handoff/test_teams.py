from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from borderless.handoff.teams import (
    NoOpening,
    Shift,
    Team,
    TeamConfigError,
    load_teams,
    parse_team,
)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_demo_file_loads_in_order(teams: tuple[Team, ...]) -> None:
    assert [t.key for t in teams] == ["shenzhen", "berlin", "sao_paulo", "tokyo", "dubai"]
    sao_paulo = teams[2]
    assert sao_paulo.name == "São Paulo"
    assert sao_paulo.languages == ("pt", "es", "en")
    assert sao_paulo.hours[5] == (Shift(time(9), time(13)),)  # Saturday mornings
    assert sao_paulo.hours[6] == ()
    dubai = teams[4]
    assert [bool(day) for day in dubai.hours] == [True, True, True, True, False, False, True]


def test_weekly_hours_are_wall_clock_in_the_team_zone(team: dict[str, Team]) -> None:
    berlin = team["berlin"]
    assert not berlin.is_open(local(BERLIN, 2026, 6, 9, 7, 59))
    assert berlin.is_open(local(BERLIN, 2026, 6, 9, 8, 0))
    assert berlin.is_open(local(BERLIN, 2026, 6, 9, 16, 59))
    assert not berlin.is_open(local(BERLIN, 2026, 6, 9, 17, 0))
    assert not berlin.is_open(local(BERLIN, 2026, 6, 13, 10, 0))  # Saturday
    # the same instant seen from another zone gives the same answer
    assert berlin.is_open(datetime(2026, 6, 9, 6, 30, tzinfo=UTC))
    sao_paulo = team["sao_paulo"]
    saturday = ZoneInfo("America/Sao_Paulo")
    assert sao_paulo.is_open(local(saturday, 2026, 6, 13, 12, 59))
    assert not sao_paulo.is_open(local(saturday, 2026, 6, 13, 13, 0))


def test_public_holidays_close_a_team(team: dict[str, Team]) -> None:
    shenzhen = team["shenzhen"]
    assert shenzhen.is_closed_on(date(2026, 10, 1))  # National Day, a Thursday
    assert not shenzhen.is_open(local(SHANGHAI, 2026, 10, 1, 10, 0))
    assert shenzhen.is_open(local(SHANGHAI, 2026, 9, 30, 10, 0))
    # Golden Week with its observed and substituted days off: back on Thursday the 8th
    reopening = shenzhen.next_opening(local(SHANGHAI, 2026, 10, 1, 10, 0))
    assert reopening == local(SHANGHAI, 2026, 10, 8, 9, 0)
    assert reopening.tzinfo == SHANGHAI
    assert team["berlin"].is_closed_on(date(2026, 10, 3))  # Tag der Deutschen Einheit
    assert not team["berlin"].is_closed_on(date(2026, 10, 1))


def test_holiday_on_a_working_saturday_and_extra_closed_dates() -> None:
    weekend_shop = parse_team(
        "berlin_weekend",
        {
            "languages": ["de"],
            "timezone": "Europe/Berlin",
            "hours": {"sat-sun": "10:00-14:00"},
            "holidays": {"country": "DE", "subdivision": "BE"},
            "closed": [date(2026, 10, 4), "2026-10-11"],
        },
    )
    assert not weekend_shop.is_open(local(BERLIN, 2026, 10, 3, 11, 0))  # holiday on a Saturday
    assert not weekend_shop.is_open(local(BERLIN, 2026, 10, 4, 11, 0))  # closed date
    assert weekend_shop.next_opening(local(BERLIN, 2026, 10, 3, 9, 0)) == local(
        BERLIN, 2026, 10, 10, 10, 0
    )


def test_next_opening_across_a_weekend(team: dict[str, Team]) -> None:
    friday_evening = local(BERLIN, 2026, 6, 12, 17, 0)
    assert team["berlin"].next_opening(friday_evening) == local(BERLIN, 2026, 6, 15, 8, 0)
    dubai = ZoneInfo("Asia/Dubai")
    thursday_evening = local(dubai, 2026, 6, 11, 18, 0)
    assert team["dubai"].next_opening(thursday_evening) == local(dubai, 2026, 6, 14, 9, 0)


def test_next_opening_is_now_when_open(team: dict[str, Team]) -> None:
    moment = datetime(2026, 6, 9, 9, 15, tzinfo=UTC)
    opening = team["berlin"].next_opening(moment)
    assert opening == moment
    assert opening.tzinfo == BERLIN


def test_next_opening_follows_daylight_saving_in_berlin(team: dict[str, Team]) -> None:
    berlin = team["berlin"]
    # spring: Friday closes at 17:00 CET (16:00 UTC), Monday opens at 08:00 CEST (06:00 UTC)
    spring = berlin.next_opening(datetime(2026, 3, 27, 16, 0, tzinfo=UTC))
    assert spring == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert spring.utcoffset() == timedelta(hours=2)
    assert not berlin.is_open(datetime(2026, 3, 30, 5, 59, tzinfo=UTC))
    assert berlin.is_open(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))
    # autumn: Monday opens at 08:00 CET, which is 07:00 UTC
    autumn = berlin.next_opening(datetime(2026, 10, 23, 15, 0, tzinfo=UTC))
    assert autumn == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    assert autumn.utcoffset() == timedelta(hours=1)
    assert not berlin.is_open(datetime(2026, 10, 26, 6, 59, tzinfo=UTC))


def test_a_shift_starting_in_the_spring_gap_opens_at_the_jump() -> None:
    night = parse_team(
        "night",
        {"languages": ["en"], "timezone": "Europe/Berlin", "hours": {"sun": "02:30-05:00"}},
    )
    # 2026-03-29 02:30 never happens in Berlin: clocks jump from 02:00 CET to 03:00 CEST
    opening = night.next_opening(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert opening.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 0)
    assert not night.is_open(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC))
    assert night.is_open(opening)


def test_no_opening_within_the_horizon() -> None:
    closed_for_weeks = parse_team(
        "sabbatical",
        {
            "languages": ["en"],
            "timezone": "UTC",
            "hours": {"mon-fri": "09:00-17:00"},
            "closed": [(date(2026, 7, 1) + timedelta(days=n)).isoformat() for n in range(30)],
        },
    )
    start = datetime(2026, 7, 1, tzinfo=UTC)
    with pytest.raises(NoOpening):
        closed_for_weeks.next_opening(start)
    assert closed_for_weeks.next_opening(start, horizon=timedelta(days=40)) == datetime(
        2026, 7, 31, 9, 0, tzinfo=UTC
    )


def test_naive_datetimes_are_refused(team: dict[str, Team]) -> None:
    with pytest.raises(ValueError, match="naive"):
        team["berlin"].is_open(datetime(2026, 6, 9, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        team["berlin"].next_opening(datetime(2026, 6, 9, 10, 0))


def test_midnight_end_and_split_shifts() -> None:
    desk = parse_team(
        "desk",
        {"languages": ["en"], "timezone": "UTC", "hours": {"mon": ["13:00-24:00", "08:00-12:00"]}},
    )
    assert desk.hours[0] == (Shift(time(8), time(12)), Shift(time(13), time.max))
    assert desk.is_open(datetime(2026, 6, 8, 23, 59, 59, tzinfo=UTC))
    assert desk.next_opening(datetime(2026, 6, 8, 12, 30, tzinfo=UTC)) == datetime(
        2026, 6, 8, 13, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, "unknown timezone"),
        ({"languages": ["german"]}, "ISO 639-1"),
        ({"hours": {"mon": "18:00-09:00"}}, "no overnight"),
        ({"hours": {"mon-fri": "09:00-17:00", "wed": "10:00-12:00"}}, "wed is listed twice"),
        ({"hours": {"monday": "09:00-17:00"}}, "not a day"),
        ({"hours": {"mon": "9-17"}}, "not a shift"),
        ({"holidays": {"country": "XX"}}, "XX"),
        ({"holidays": {"country": "DE", "subdivision": "ZZ"}}, "ZZ"),
        ({"closed": ["24.12.2026"]}, "YYYY-MM-DD"),
        ({"opening": "always"}, "unknown fields"),
    ],
)
def test_configuration_errors_name_the_team(change: dict[str, object], message: str) -> None:
    entry: dict[str, object] = {
        "languages": ["de"],
        "timezone": "Europe/Berlin",
        "hours": {"mon-fri": "09:00-17:00"},
    }
    with pytest.raises(TeamConfigError, match=message) as error:
        parse_team("bad", {**entry, **change})
    assert "'bad'" in str(error.value)


def test_a_file_without_teams_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "teams.yml"
    empty.write_text("teams: {}\n")
    with pytest.raises(TeamConfigError, match="teams"):
        load_teams(empty)
