"""Agent teams and their business hours: who can take a conversation, and when.

Hours are wall-clock times in the team's own IANA zone, because that is how teams plan shifts:
"08:00 in Berlin" stays 08:00 across the daylight-saving change, while its UTC instant moves.
All instants given to and returned from this module are timezone-aware; naive datetimes are
refused, since guessing their zone is how a handoff promises "tomorrow 9:00" on the wrong day.

Public holidays come from python-holidays (observed days included), extra closed days from the
configuration. The format of ``demo/teams.yml`` is documented in that file's header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from dateutil.rrule import DAILY, rrule

#: How far ahead :meth:`Team.next_opening` looks; two weeks covers the longest holiday runs
#: (Golden Week, Chinese New Year, Christmas to New Year) with room to spare.
DEFAULT_HORIZON = timedelta(days=14)

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_SHIFT = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_KEY = re.compile(r"^[a-z0-9_]+$")
# "24:00" as a shift's end: the last instant of the day, so ``start <= t < end`` still holds.
_END_OF_DAY = time.max


class TeamConfigError(ValueError):
    """The teams file is wrong; the message names the team and the field."""


class NoOpening(LookupError):
    """The team does not open within the search horizon (no hours, or a long closure)."""


class Shift(NamedTuple):
    """One stretch of a day on duty, ``start <= wall time < end``."""

    start: time
    end: time


@dataclass(frozen=True)
class Team:
    """A group of agents with shared languages, zone, weekly hours and holiday calendar.

    ``hours`` has seven entries, Monday first (``datetime.weekday()`` order), each the shifts
    of that day. Frozen and hashable so routing results and caches can hold teams safely.
    """

    key: str
    name: str
    languages: tuple[str, ...]
    timezone: ZoneInfo
    hours: tuple[tuple[Shift, ...], ...]
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise TeamConfigError(f"team {self.key!r}: hours need 7 days, got {len(self.hours)}")
        for day, shifts in zip(WEEKDAYS, self.hours, strict=True):
            for shift in shifts:
                if not shift.start < shift.end:
                    raise TeamConfigError(
                        f"team {self.key!r}: {day} shift {shift.start:%H:%M}-"
                        f"{shift.end:%H:%M} must end after it starts (no overnight shifts)"
                    )
        if self.holiday_subdivision and not self.holiday_country:
            raise TeamConfigError(f"team {self.key!r}: a holiday subdivision needs a country")
        if self.holiday_country:
            try:  # fail at load time, not in the middle of a customer's handoff
                _public_holidays(self.holiday_country, self.holiday_subdivision, 2000)
            except NotImplementedError as error:
                raise TeamConfigError(f"team {self.key!r}: {error}") from error

    def covers(self, language: str) -> bool:
        return language in self.languages

    def is_closed_on(self, day: date) -> bool:
        """A public holiday or configured closed date, whatever the weekly hours say."""
        if day in self.closed_dates:
            return True
        if self.holiday_country is None:
            return False
        return day in _public_holidays(self.holiday_country, self.holiday_subdivision, day.year)

    def is_open(self, at: datetime) -> bool:
        """Whether the team's wall clock at ``at`` falls in a shift of a working day."""
        local = _aware(at).astimezone(self.timezone)
        if self.is_closed_on(local.date()):
            return False
        wall = local.time()
        return any(s.start <= wall < s.end for s in self.hours[local.weekday()])

    def next_opening(self, after: datetime, horizon: timedelta = DEFAULT_HORIZON) -> datetime:
        """The first instant at or after ``after`` when the team is on duty, in its own zone.

        ``after`` itself when the team is open then. Raises :class:`NoOpening` when nothing
        opens before ``after + horizon``. Shift starts are wall-clock times, so a Monday 08:00
        after a daylight-saving change is 08:00 local, at a different UTC instant than the
        Friday before; a start in the spring-forward gap opens when the clock jumps past it.
        """
        after_utc = _aware(after).astimezone(timezone.utc)
        limit = after_utc + horizon
        first_day = after_utc.astimezone(self.timezone).date()
        working_weekdays = [day for day in range(7) if self.hours[day]]
        if not working_weekdays:
            raise NoOpening(f"team {self.key!r} has no working hours")
        days = rrule(
            DAILY,
            dtstart=datetime.combine(first_day, time()),
            until=datetime.combine(first_day + horizon + timedelta(days=1), time()),
            byweekday=working_weekdays,
        )
        for day_start in days:
            day = day_start.date()
            if self.is_closed_on(day):
                continue
            for shift in self.hours[day.weekday()]:
                opens = _first_instant(day, shift.start, self.timezone)
                if opens >= limit:
                    raise NoOpening(f"team {self.key!r} does not open before {limit:%Y-%m-%d}")
                closes = _first_instant(day, shift.end, self.timezone)
                if closes > after_utc:
                    return max(opens, after_utc).astimezone(self.timezone)
        raise NoOpening(f"team {self.key!r} does not open before {limit:%Y-%m-%d}")


def load_teams(path: Path | str) -> tuple[Team, ...]:
    """The teams of a YAML file, in file order (the routing preference order)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = data.get("teams") if isinstance(data, Mapping) else None
    if not isinstance(entries, Mapping) or not entries:
        raise TeamConfigError(f"{path}: expected a non-empty 'teams:' mapping")
    return tuple(parse_team(str(key), entry) for key, entry in entries.items())


def parse_team(key: str, entry: Any) -> Team:
    """One team from its configuration mapping (the value under its key in ``teams:``)."""
    if not _KEY.match(key):
        raise TeamConfigError(f"team key {key!r}: use lower-case letters, digits and '_'")
    if not isinstance(entry, Mapping):
        raise TeamConfigError(f"team {key!r}: expected a mapping")
    unknown = set(entry) - {"name", "languages", "timezone", "hours", "holidays", "closed"}
    if unknown:
        raise TeamConfigError(f"team {key!r}: unknown fields {sorted(unknown)}")
    languages = tuple(str(code).lower() for code in entry.get("languages") or ())
    if not languages or not all(_LANGUAGE.match(code) for code in languages):
        raise TeamConfigError(f"team {key!r}: languages must be ISO 639-1 codes, got {languages}")
    zone_name = str(entry.get("timezone"))
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise TeamConfigError(f"team {key!r}: unknown timezone {zone_name!r}") from error
    calendar = entry.get("holidays") or {}
    if not isinstance(calendar, Mapping) or set(calendar) - {"country", "subdivision"}:
        raise TeamConfigError(f"team {key!r}: holidays takes 'country' and 'subdivision'")
    country = calendar.get("country")
    subdivision = calendar.get("subdivision")
    return Team(
        key=key,
        name=str(entry.get("name") or key),
        languages=languages,
        timezone=zone,
        hours=_parse_hours(key, entry.get("hours")),
        holiday_country=str(country).upper() if country else None,
        holiday_subdivision=str(subdivision).upper() if subdivision else None,
        closed_dates=frozenset(_parse_date(key, value) for value in entry.get("closed") or ()),
    )


def _parse_hours(key: str, value: Any) -> tuple[tuple[Shift, ...], ...]:
    if not isinstance(value, Mapping) or not value:
        raise TeamConfigError(f"team {key!r}: 'hours' must map days to shifts")
    week: list[tuple[Shift, ...] | None] = [None] * 7
    for days, shifts in value.items():
        for day in _parse_days(key, str(days)):
            if week[day] is not None:
                raise TeamConfigError(f"team {key!r}: {WEEKDAYS[day]} is listed twice")
            week[day] = _parse_shifts(key, shifts)
    return tuple(shifts or () for shifts in week)


def _parse_days(key: str, text: str) -> list[int]:
    """``"mon"`` or a range ``"mon-fri"``; ranges wrap round the week (``"sun-thu"``)."""
    names = [part.strip().lower() for part in text.split("-")]
    if len(names) > 2 or not all(name in WEEKDAYS for name in names):
        raise TeamConfigError(f"team {key!r}: {text!r} is not a day or a range like 'mon-fri'")
    first, last = WEEKDAYS.index(names[0]), WEEKDAYS.index(names[-1])
    return [(first + offset) % 7 for offset in range((last - first) % 7 + 1)]


def _parse_shifts(key: str, value: Any) -> tuple[Shift, ...]:
    items: Iterable[Any] = [value] if isinstance(value, str) else (value or ())
    shifts: list[Shift] = []
    for item in items:
        match = _SHIFT.match(str(item))
        if not match:
            raise TeamConfigError(f"team {key!r}: {item!r} is not a shift like '09:00-18:00'")
        start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
        try:
            start = time(start_h, start_m)
            end = _END_OF_DAY if (end_h, end_m) == (24, 0) else time(end_h, end_m)
        except ValueError as error:
            raise TeamConfigError(f"team {key!r}: {item!r}: {error}") from error
        shifts.append(Shift(start, end))
    return tuple(sorted(shifts))


def _parse_date(key: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise TeamConfigError(f"team {key!r}: closed date {value!r} is not YYYY-MM-DD") from error


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass a timezone-aware instant")
    return moment


def _first_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first UTC instant at which the clocks in ``zone`` show ``wall`` or later on ``day``.

    Usually just ``day wall`` in the zone (for a time that happens twice in autumn, the first
    time). A time skipped in spring does not exist; the answer is then the moment of the jump,
    found by bisecting whole seconds between the two readings PEP 495 offers for it.
    """
    naive = datetime.combine(day, wall)
    reading = naive.replace(tzinfo=zone).astimezone(timezone.utc)
    if reading.astimezone(zone).replace(tzinfo=None) == naive:
        return reading
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())  # before the jump
    high = int(reading.timestamp()) + 1  # after the jump
    while high - low > 1:
        middle = (low + high) // 2
        shown = datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
        if shown >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, timezone.utc)


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """One year of a calendar, frozen: python-holidays objects grow as they are queried, which
    is neither cheap per call nor safe to share across threads."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))
