"""Which responses answer "how long / how much to ship to X?", formatted for the customer."""

from __future__ import annotations

from datetime import datetime

from borderless.commerce.shipping import ShippingTable, UnknownDestination, Unshippable
from borderless.i18n.formatting import country_name, format_day, format_money, locale_for
from borderless.i18n.order_replies import Reply


def shipping_replies(
    table: ShippingTable, country: str, language: str, now: datetime
) -> list[Reply]:
    locale = locale_for(language, country)
    name = country_name(country, locale)
    try:
        estimates = table.estimates(country, now)
    except Unshippable:
        return [Reply("utter_shipping_unshippable", {"country": name})]
    except UnknownDestination:
        return [Reply("utter_shipping_unknown_country")]
    replies = [Reply("utter_shipping_intro", {"country": name})]
    for estimate in estimates:
        replies.append(
            Reply(
                f"utter_shipping_method_{estimate.method}",
                {
                    "cost": format_money(estimate.cost, estimate.currency, locale),
                    "earliest": format_day(estimate.earliest, locale),
                    "latest": format_day(estimate.latest, locale),
                },
            )
        )
    free = next((e for e in estimates if e.free_over is not None), None)
    if free is not None and free.free_over is not None:
        amount = format_money(free.free_over, free.currency, locale)
        replies.append(Reply("utter_shipping_free_over", {"free_over": amount}))
    return replies
