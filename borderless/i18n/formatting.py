"""Dates, money, numbers and country names for the customer's locale, always through Babel (CLDR).

Actions format values here and pass the strings to responses as arguments; no date or price is
ever formatted by hand. The locale is the conversation language refined by the customer's
country when CLDR knows the pair (``pt`` + ``BR`` → ``pt_BR``, ``en`` + ``GB`` → ``en_GB``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.lists import format_list

# Where a language is spoken in many markets, the market a customer of that language most often
# has when we know nothing else (only used for number and date conventions).
_DEFAULT_TERRITORY = {
    "en": "US",
    "de": "DE",
    "fr": "FR",
    "es": "ES",
    "it": "IT",
    "pt": "BR",
    "ja": "JP",
    "zh": "CN",
    "ar": "SA",
}


@lru_cache(maxsize=256)
def locale_for(language: str, country: str | None = None) -> Locale:
    """The most specific CLDR locale for a language and (optionally) the customer's country."""
    language = (language or "en").split("-")[0].split("_")[0].lower()
    territory = (country or _DEFAULT_TERRITORY.get(language) or "").upper()
    if territory:
        try:
            return Locale.parse(f"{language}_{territory}")
        except (UnknownLocaleError, ValueError):
            pass
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def country_timezone(country: str | None) -> ZoneInfo:
    """The main time zone of a country (its first CLDR zone), UTC when unknown."""
    if country:
        import pytz  # type: ignore[import-untyped]  # a Rasa dependency: country → zones

        names = pytz.country_timezones.get(country.upper())
        if names:
            return ZoneInfo(names[0])
    return ZoneInfo("UTC")


def format_day(value: date, locale: Locale) -> str:
    """A delivery day the way people say it: weekday, day and month (no year)."""
    return babel_dates.format_skeleton("MMMMEEEEd", value, locale=locale)


def format_day_range(start: date, end: date, locale: Locale) -> str:
    if start == end:
        return format_day(start, locale)
    return babel_dates.format_interval(start, end, skeleton="MMMMEEEEd", locale=locale)


def format_moment(value: datetime, locale: Locale, tz: ZoneInfo) -> str:
    """A checkpoint time in the customer's time zone: short weekday, date and time."""
    local = value.astimezone(tz)
    day = babel_dates.format_skeleton("MMMEd", local, locale=locale)
    time = babel_dates.format_time(local, "short", locale=locale)
    # CLDR's own glue between a date and a time ("{1}, {0}", "{1} {0}", "{1} في {0}", …)
    glue = str(babel_dates.get_datetime_format("short", locale=locale)).replace("'", "")
    return glue.format(time, day)


def format_money(amount: Decimal, currency: str, locale: Locale) -> str:
    return babel_numbers.format_currency(amount, currency, locale=locale)


def country_name(code: str, locale: Locale) -> str:
    return locale.territories.get(code.upper(), code.upper())


def language_list(codes: Iterable[str], locale: Locale) -> str:
    """Each language named in itself ("Deutsch", "日本語"), joined the way ``locale`` lists."""
    names = []
    for code in codes:
        own = Locale.parse(code)
        name = own.get_display_name(own) or code
        names.append(name[:1].upper() + name[1:])
    return format_list(names, locale=locale)
