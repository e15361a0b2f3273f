"""Shipping time and cost to a country, from the shop's configuration (``demo/shipping.yml``).

The estimate counts *business days*, as carriers and warehouses do: an order paid after the
warehouse's cut-off (in the warehouse's time zone) starts the next working day; handling counts
the warehouse country's working days and transit the destination's (weekends, which differ by
country, and public holidays come from the ``holidays`` package, never a hand-written list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import yaml


class UnknownDestination(LookupError):
    """Not a country we know how to ship to (or not a country at all)."""


class Unshippable(LookupError):
    """A country the shop does not ship to."""


@dataclass(frozen=True)
class DayRange:
    low: int
    high: int


@dataclass(frozen=True)
class Method:
    name: str
    transit: dict[str, DayRange]  # zone → carrier transit business days
    cost: dict[str, Decimal]  # zone → price in the shop currency
    free_over: Decimal | None = None


@dataclass(frozen=True)
class Estimate:
    country: str
    method: str
    earliest: date
    latest: date
    cost: Decimal
    currency: str
    free_over: Decimal | None


@dataclass(frozen=True)
class ShippingTable:
    warehouse_country: str
    warehouse_tz: ZoneInfo
    cutoff: time
    handling: DayRange
    zones: dict[str, str]  # country → zone
    methods: dict[str, Method]
    unshippable: frozenset[str]
    currency: str

    @classmethod
    def load(cls, path: Path) -> ShippingTable:
        with path.open(encoding="utf-8") as handle:
            return cls.from_dict(yaml.safe_load(handle))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ShippingTable:
        warehouse = raw["warehouse"]
        zones = {
            country.upper(): zone
            for zone, countries in raw["zones"].items()
            for country in countries
        }
        methods = {
            name: Method(
                name=name,
                transit={zone: DayRange(*days) for zone, days in spec["transit_days"].items()},
                cost={zone: Decimal(str(price)) for zone, price in spec["cost"].items()},
                free_over=Decimal(str(spec["free_over"])) if spec.get("free_over") else None,
            )
            for name, spec in raw["methods"].items()
        }
        hours, minutes = (int(part) for part in str(warehouse["cutoff"]).split(":"))
        return cls(
            warehouse_country=warehouse["country"].upper(),
            warehouse_tz=ZoneInfo(warehouse["timezone"]),
            cutoff=time(hours, minutes),
            handling=DayRange(*warehouse["handling_days"]),
            zones=zones,
            methods=methods,
            unshippable=frozenset(c.upper() for c in raw.get("unshippable", [])),
            currency=raw["currency"],
        )

    def estimate(self, country: str, method: str, now: datetime) -> Estimate:
        """When a parcel ordered ``now`` arrives in ``country`` with ``method``."""
        country = country.upper()
        if country in self.unshippable:
            raise Unshippable(country)
        zone = self.zones.get(country)
        spec = self.methods[method]
        if zone is None or zone not in spec.transit:
            raise UnknownDestination(country)
        transit = spec.transit[zone]
        start = self._first_handling_day(now)
        warehouse_days = _Calendar(self.warehouse_country, start.year)
        destination_days = _Calendar(country, start.year)
        shipped_early = warehouse_days.add(start, self.handling.low - 1)
        shipped_late = warehouse_days.add(start, self.handling.high - 1)
        return Estimate(
            country=country,
            method=method,
            earliest=destination_days.add(shipped_early, transit.low),
            latest=destination_days.add(shipped_late, transit.high),
            cost=spec.cost[zone],
            currency=self.currency,
            free_over=spec.free_over,
        )

    def estimates(self, country: str, now: datetime) -> list[Estimate]:
        """Every method that reaches ``country``, cheapest first."""
        found = []
        for name in self.methods:
            try:
                found.append(self.estimate(country, name, now))
            except UnknownDestination:
                continue
        if not found:
            raise UnknownDestination(country.upper())
        return sorted(found, key=lambda e: e.cost)

    def _first_handling_day(self, now: datetime) -> date:
        """The warehouse's first working day on which an order placed ``now`` is handled."""
        local = now.astimezone(self.warehouse_tz)
        calendar = _Calendar(self.warehouse_country, local.year)
        day = local.date()
        if local.time() >= self.cutoff or not calendar.is_working(day):
            day = calendar.add(day, 1)
        return day


class _Calendar:
    """Working days of one country: its own weekend and public holidays."""

    def __init__(self, country: str, year: int) -> None:
        try:
            self._holidays: holidays.HolidayBase | None = holidays.country_holidays(
                country, years=range(year, year + 2)
            )
        except NotImplementedError:  # a country the package has no calendar for
            self._holidays = None

    def is_working(self, day: date) -> bool:
        if self._holidays is None:
            return day.weekday() < 5
        return bool(self._holidays.is_working_day(day))

    def add(self, day: date, working_days: int) -> date:
        """The working day ``working_days`` after ``day`` (``day`` itself for 0)."""
        while working_days > 0:
            day += timedelta(days=1)
            if self.is_working(day):
                working_days -= 1
        return day
