"""The shop's policies per market: currency, payment methods, duties and taxes, warranty.

Read from a shop configuration file (``demo/policies.yml``, see its header); answers about
payments, duties and warranty come from here, never from text in an action. A country belongs to
the first market listing it; every other country gets the ``default`` market.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import yaml


class PolicyError(ValueError):
    """The policies file is malformed (raised at load time)."""


class Duties(str, Enum):
    INCLUDED = "included"
    DDP = "ddp"
    THRESHOLD = "threshold"
    ON_DELIVERY = "on_delivery"
    DOMESTIC = "domestic"


@dataclass(frozen=True)
class Warranty:
    months: int
    legal: bool


@dataclass(frozen=True)
class Market:
    name: str
    currency: str
    payment_methods: tuple[str, ...]
    duties: Duties
    warranty: Warranty
    duty_free_up_to: Decimal | None = None


@dataclass(frozen=True)
class PaymentProblems:
    double_charge_release_days: tuple[int, int]
    pending_hours: int


def _market(name: str, raw: dict[str, Any]) -> Market:
    try:
        duties = Duties(str(raw.get("duties", "on_delivery")))
    except ValueError as error:
        raise PolicyError(f"market {name}: unknown duties {raw.get('duties')!r}") from error
    warranty = raw.get("warranty") or {}
    threshold = raw.get("duty_free_up_to")
    if duties is Duties.THRESHOLD and threshold is None:
        raise PolicyError(f"market {name}: duties 'threshold' needs duty_free_up_to")
    return Market(
        name=name,
        currency=str(raw.get("currency") or "USD").upper(),
        payment_methods=tuple(str(m) for m in raw.get("payment_methods") or ()),
        duties=duties,
        warranty=Warranty(int(warranty.get("months", 12)), warranty.get("kind") == "legal"),
        duty_free_up_to=Decimal(str(threshold)) if threshold is not None else None,
    )


class Policies:
    def __init__(
        self,
        markets: dict[str, Market],
        countries: dict[str, str],
        default: Market,
        payment_problems: PaymentProblems,
        method_names: dict[str, dict[str, str]],
        currency: str = "USD",
    ) -> None:
        self._markets = markets
        self._countries = countries
        self.default = default
        self.payment_problems = payment_problems
        self._method_names = method_names
        self.currency = currency

    @classmethod
    def load(cls, path: Path) -> Policies:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        markets: dict[str, Market] = {}
        countries: dict[str, str] = {}
        for name, spec in (raw.get("markets") or {}).items():
            markets[str(name)] = _market(str(name), spec or {})
            for code in spec.get("countries") or []:
                countries.setdefault(str(code).upper(), str(name))
        default = _market("default", raw.get("default") or {})
        problems = raw.get("payment_problems") or {}
        low, high = problems.get("double_charge_release_days") or [3, 5]
        names: dict[str, dict[str, str]] = {}
        for method, value in (raw.get("payment_method_names") or {}).items():
            names[str(method)] = (
                {str(k): str(v) for k, v in value.items()}
                if isinstance(value, dict)
                else {"en": str(value)}
            )
        for market in [*markets.values(), default]:
            unknown = [m for m in market.payment_methods if m not in names]
            if unknown:
                raise PolicyError(f"market {market.name}: no name for payment methods {unknown}")
        return cls(
            markets,
            countries,
            default,
            PaymentProblems((int(low), int(high)), int(problems.get("pending_hours", 48))),
            names,
            str(raw.get("currency") or "USD").upper(),
        )

    def market(self, country: str | None) -> Market:
        name = self._countries.get((country or "").upper())
        return self._markets[name] if name else self.default

    def method_name(self, method: str, language: str) -> str:
        names = self._method_names.get(method) or {}
        return names.get(language) or names.get("en") or method
