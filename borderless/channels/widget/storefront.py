"""The demo storefront: a shop page in nine languages with the web widget on it.

``make run`` starts it at http://localhost:8090 (``STOREFRONT_PORT``); ``/?lang=ar`` shows
the Arabic page (``<html lang="ar" dir="rtl">``), which the widget follows. The page embeds the
widget exactly as a real shop would: a config object and one ``<script>`` tag loading
``widget.js`` from the Rasa server (``RASA_PUBLIC_URL``, the URL the *browser* reaches Rasa
at). Products come from ``demo/catalog.yml``, prices formatted with Babel for the language.

No Rasa import: it starts in a second and serves nothing but this page.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from borderless.i18n.formatting import format_money, locale_for
from borderless.i18n.language import SUPPORTED_LANGUAGES, normalize_locale
from borderless.settings import PROJECT_ROOT

TEMPLATE = Path(__file__).with_name("storefront.html")
CATALOG = PROJECT_ROOT / "demo" / "catalog.yml"
RTL_LANGUAGES = frozenset({"ar"})
SHOWN_PRODUCTS = 8

# The page's own words (the widget has its own, in widget.js).
PAGE_TEXTS: dict[str, dict[str, str]] = {
    "en": {"tagline": "Gadgets and good things, shipped to 40 countries.",
           "products": "Popular right now", "help": "Questions about an order? Use the chat "
           "at the bottom of the page.", "language": "Language"},
    "de": {"tagline": "Technik und schöne Dinge, Versand in 40 Länder.",
           "products": "Gerade beliebt", "help": "Fragen zu einer Bestellung? Nutzen Sie den "
           "Chat unten auf der Seite.", "language": "Sprache"},
    "fr": {"tagline": "Des gadgets et de belles choses, livrés dans 40 pays.",
           "products": "En ce moment", "help": "Une question sur une commande ? Utilisez le "
           "chat en bas de la page.", "language": "Langue"},
    "es": {"tagline": "Tecnología y cosas bonitas, con envío a 40 países.",
           "products": "Lo más popular", "help": "¿Preguntas sobre un pedido? Use el chat en "
           "la parte inferior de la página.", "language": "Idioma"},
    "it": {"tagline": "Tecnologia e belle cose, spedite in 40 paesi.",
           "products": "I più richiesti", "help": "Domande su un ordine? Usi la chat in fondo "
           "alla pagina.", "language": "Lingua"},
    "pt": {"tagline": "Tecnologia e coisas boas, com envio para 40 países.",
           "products": "Os mais procurados", "help": "Dúvidas sobre um pedido? Use o chat no "
           "fim da página.", "language": "Idioma"},
    "ja": {"tagline": "ガジェットと素敵な品を、40か国へお届けします。",
           "products": "人気の商品",
           "help": "ご注文についてのご質問は、ページ下のチャットをご利用ください。",
           "language": "言語"},
    "zh": {"tagline": "数码产品与生活好物，配送至 40 个国家。",
           "products": "热销商品", "help": "对订单有疑问？请使用页面下方的聊天窗口。",
           "language": "语言"},
    "ar": {"tagline": "أجهزة ومنتجات مميزة، نشحنها إلى 40 دولة.",
           "products": "الأكثر طلبًا الآن", "help": "هل لديكم سؤال عن طلب؟ يُرجى استخدام المحادثة "
           "أسفل الصفحة.", "language": "اللغة"},
}  # fmt: skip
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
                  "it": "Italiano", "pt": "Português", "ja": "日本語", "zh": "中文",
                  "ar": "العربية"}  # fmt: skip


def load_products(path: Path = CATALOG, limit: int = SHOWN_PRODUCTS) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    currency = str(data.get("currency", "USD"))
    return [{**product, "currency": currency} for product in data.get("products", [])[:limit]]


def product_name(product: dict[str, Any], language: str) -> str:
    """The catalog's first alias in ``language`` for languages other than English (capitalized
    where the script has case), else the English title."""
    aliases = (product.get("aliases") or {}).get(language) or []
    if language == "en" or not aliases:
        return str(product["title"])
    name = str(aliases[0])
    return name[:1].upper() + name[1:]


def price(product: dict[str, Any], locale: Locale) -> str:
    return format_money(Decimal(str(product["price"])), product["currency"], locale)


def render_page(language: str, rasa_url: str, products: list[dict[str, Any]]) -> str:
    texts = PAGE_TEXTS[language]
    locale = locale_for(language)
    cards = "\n".join(
        '<li class="card"><div class="thumb" aria-hidden="true"></div>'
        f"<h3>{html.escape(product_name(p, language))}</h3>"
        f'<p class="price">{html.escape(price(p, locale))}</p></li>'
        for p in products
    )
    switcher = "\n".join(
        f'<li><a href="?lang={code}" lang="{code}" hreflang="{code}"'
        + (' aria-current="page"' if code == language else "")
        + f">{html.escape(LANGUAGE_NAMES[code])}</a></li>"
        for code in SUPPORTED_LANGUAGES
    )
    # JSON with "<" escaped: nothing in the URL can close or open a <script> element.
    widget_config = json.dumps({"rasaUrl": rasa_url}).replace("<", "\\u003c")
    return (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("{{lang}}", language)
        .replace("{{dir}}", "rtl" if language in RTL_LANGUAGES else "ltr")
        .replace("{{tagline}}", html.escape(texts["tagline"]))
        .replace("{{products_heading}}", html.escape(texts["products"]))
        .replace("{{help}}", html.escape(texts["help"]))
        .replace("{{language_label}}", html.escape(texts["language"]))
        .replace("{{switcher}}", switcher)
        .replace("{{cards}}", cards)
        .replace("{{widget_config}}", widget_config)
        .replace("{{widget_src}}", html.escape(f"{rasa_url}/webhooks/socketio/widget.js"))
    )


def create_storefront_app(rasa_url: str, name: str = "borderless-storefront") -> Sanic:
    app = Sanic(name)
    products = load_products()
    rasa_url = rasa_url.rstrip("/")

    @app.get("/")
    async def page(request: Request) -> HTTPResponse:
        language = normalize_locale(request.args.get("lang")) or "en"
        return response.html(render_page(language, rasa_url, products))

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the demo storefront. Environment: ``STOREFRONT_PORT`` (8090), ``RASA_PUBLIC_URL``
    (the Rasa server as the browser reaches it; http://localhost:``RASA_PORT``)."""
    parser = argparse.ArgumentParser(description="Borderless demo storefront")
    parser.add_argument("--host", default=os.environ.get("STOREFRONT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("STOREFRONT_PORT", "8090")))
    parser.add_argument(
        "--rasa-url",
        default=os.environ.get("RASA_PUBLIC_URL")
        or f"http://localhost:{os.environ.get('RASA_PORT', '5005')}",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    create_storefront_app(args.rasa_url).run(host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
