"""Which responses answer product, payment, duties and warranty questions, for one market.

Everything the customer reads is a response in ``domain.yml`` (translated in ``locales/``);
this module only picks them and formats their arguments with Babel for the customer's locale:
prices in the market's currency, country names, lists ("Visa, PayPal and Klarna").
"""

from __future__ import annotations

from babel.lists import format_list

from borderless.commerce.catalog import LOW_STOCK, Product
from borderless.commerce.policies import Duties, Market, Policies
from borderless.i18n.formatting import country_name, format_money, locale_for
from borderless.i18n.order_replies import Reply

# What a product answer covers when the customer did not say (e.g. "tell me about the drone").
OVERVIEW = ("price", "stock", "size", "material")
PRODUCT_ASPECTS = ("warranty", "care", "stock", "size", "material", "price")


def _country(code: str | None, language: str) -> tuple[str, str]:
    """The customer's country code (or the language's usual one) and its localized name."""
    locale = locale_for(language, code)
    territory = (code or locale.territory or "US").upper()
    return territory, country_name(territory, locale)


def product_replies(
    product: Product,
    aspects: list[str],
    language: str,
    country: str | None,
    policies: Policies,
) -> list[Reply]:
    code, name = _country(country, language)
    locale = locale_for(language, code)
    market = policies.market(code)
    wanted = [a for a in PRODUCT_ASPECTS if a in aspects] or list(OVERVIEW)
    title = product.title
    replies: list[Reply] = []
    for aspect in wanted:
        if aspect == "price":
            amount, currency = product.price_in(market.currency, policies.currency)
            price = format_money(amount, currency, locale)
            replies.append(
                Reply("utter_product_price", {"product": title, "price": price, "country": name})
            )
        elif aspect == "stock":
            replies.extend(_stock_replies(product))
        elif aspect == "warranty":
            replies.extend(warranty_replies(market, name))
        elif aspect in ("size", "material", "care"):
            text = product.fact(aspect, language)
            if text:
                replies.append(Reply(f"utter_product_{aspect}", {"product": title, aspect: text}))
            elif aspect in aspects:  # asked for explicitly, and we do not know
                replies.append(Reply("utter_product_no_info", {"product": title}))
    if product.final_sale and ("warranty" in wanted or wanted == list(OVERVIEW)):
        replies.append(Reply("utter_product_final_sale", {"product": title}))
    return replies


def _stock_replies(product: Product) -> list[Reply]:
    title = product.title
    if product.variants:
        available = [v.name for v in product.variants if v.stock > 0]
        sold_out = [v.name for v in product.variants if v.stock <= 0]
        if not available:
            return [Reply("utter_product_out_of_stock", {"product": title})]
        replies = [
            Reply("utter_product_variants", {"product": title, "available": ", ".join(available)})
        ]
        if sold_out:
            replies.append(
                Reply("utter_product_variants_sold_out", {"sold_out": ", ".join(sold_out)})
            )
        return replies
    if product.stock <= 0:
        return [Reply("utter_product_out_of_stock", {"product": title})]
    if product.stock <= LOW_STOCK:
        return [Reply("utter_product_low_stock", {"product": title, "stock": product.stock})]
    return [Reply("utter_product_in_stock", {"product": title})]


def warranty_replies(market: Market, country: str) -> list[Reply]:
    response = "utter_warranty_legal" if market.warranty.legal else "utter_warranty_shop"
    return [
        Reply(response, {"country": country, "months": market.warranty.months}),
        Reply("utter_warranty_claim"),
    ]


def market_warranty_replies(policies: Policies, country: str | None, language: str) -> list[Reply]:
    """The warranty of the customer's market, when no product was named."""
    code, name = _country(country, language)
    return warranty_replies(policies.market(code), name)


def duties_replies(policies: Policies, country: str | None, language: str) -> list[Reply]:
    code, name = _country(country, language)
    market = policies.market(code)
    if market.duties is Duties.THRESHOLD and market.duty_free_up_to is not None:
        threshold = format_money(
            market.duty_free_up_to, market.currency, locale_for(language, code)
        )
        return [Reply("utter_duties_threshold", {"country": name, "threshold": threshold})]
    return [Reply(f"utter_duties_{market.duties.value}", {"country": name})]


def payment_replies(
    policies: Policies, topic: str | None, language: str, country: str | None
) -> list[Reply]:
    """The answer to a payment problem; a double charge also offers a person."""
    code, name = _country(country, language)
    locale = locale_for(language, code)
    problems = policies.payment_problems
    if topic == "double_charge":
        low, high = problems.double_charge_release_days
        return [
            Reply("utter_payment_double_charge", {"days_min": low, "days_max": high}),
            Reply("utter_offer_human_payment"),
        ]
    if topic == "pending":
        return [Reply("utter_payment_pending", {"hours": problems.pending_hours})]
    market = policies.market(code)
    methods = format_list(
        [policies.method_name(m, language) for m in market.payment_methods], locale=locale
    )
    listed = Reply("utter_payment_methods", {"country": name, "methods": methods})
    if topic == "declined":
        return [Reply("utter_payment_declined"), listed]
    if topic == "methods":
        return [listed]
    return [listed, Reply("utter_payment_more")]
