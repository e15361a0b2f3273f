"""What the actions talk to, built once per process from the settings.

Choosing the systems happens here and only here: the embedded reference shop by default;
Shopify, WooCommerce, AfterShip and 17TRACK adapters plug in behind the same protocols.
Nothing connects at construction: the first customer message opens the HTTP session.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from borderless.commerce.aftersales import AfterSales
from borderless.commerce.catalog import Catalog, YamlCatalog
from borderless.commerce.desk import OrderDesk
from borderless.commerce.numbers import OrderNumberFormat
from borderless.commerce.policies import Policies
from borderless.commerce.reference import ReferenceShop
from borderless.commerce.returns import ReturnPolicy
from borderless.commerce.shipping import ShippingTable
from borderless.commerce.systems import build_logistics_system, build_order_system
from borderless.customers.identities import CustomerLinks, IdentityStore
from borderless.handoff.chatwoot import ChatwootDesk
from borderless.handoff.desk import HandoffDesk
from borderless.i18n.catalog import Catalogs
from borderless.i18n.countries import CountryNames
from borderless.i18n.topics import Topics, default_topics
from borderless.settings import Settings

#: The desks that pause the bot while a person holds the conversation ("email" only informs).
HANDOFF_DESKS = frozenset({"console", "chatwoot"})


@dataclass
class Services:
    settings: Settings
    desk: OrderDesk
    order_numbers: OrderNumberFormat
    shipping: ShippingTable
    countries: CountryNames
    aftersales: AfterSales
    _handoff: HandoffDesk | None = None
    _customer_links: CustomerLinks | None = None
    _chatwoot: ChatwootDesk | None = None
    _catalog: Catalog | None = None
    _policies: Policies | None = None
    _catalogs: Catalogs | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        # Leave headroom under the customer-facing deadline for the reply itself.
        shop = ReferenceShop(
            settings.shop_url, settings.shop_api_token, timeout=settings.backend_timeout
        )
        orders = build_order_system(
            settings.commerce.get("orders") or {}, settings.backend_timeout, shop
        )
        logistics = build_logistics_system(
            settings.commerce.get("logistics") or {}, settings.backend_timeout, shop
        )
        order_numbers = (
            OrderNumberFormat(settings.order_number_pattern)
            if settings.order_number_pattern
            else OrderNumberFormat()
        )
        return cls(
            settings=settings,
            desk=OrderDesk(orders, logistics, deadline=settings.backend_timeout + 0.4),
            order_numbers=order_numbers,
            shipping=ShippingTable.load(settings.shipping_file),
            countries=CountryNames(),
            # Two calls per change (verify, then change): twice the budget of one lookup.
            aftersales=AfterSales(
                orders,
                ReturnPolicy.load(settings.returns_file, settings.catalog_file),
                deadline=2 * settings.backend_timeout + 0.4,
            ),
        )

    @property
    def catalog(self) -> Catalog:
        """Read on the first product question (file I/O), then kept."""
        if self._catalog is None:
            self._catalog = YamlCatalog.load(self.settings.catalog_file)
        return self._catalog

    @property
    def policies(self) -> Policies:
        if self._policies is None:
            self._policies = Policies.load(self.settings.policies_file)
        return self._policies

    @property
    def catalogs(self) -> Catalogs:
        """The response translations, for text an action builds itself (button labels)."""
        if self._catalogs is None:
            self._catalogs = Catalogs.load(self.settings.locales_dir)
        return self._catalogs

    @property
    def topics(self) -> Topics:
        return default_topics()

    def handoff_desk(self) -> HandoffDesk | ChatwootDesk:
        """Built on the first handoff: it creates its tables, which is I/O."""
        if self.settings.handoff_desk == "chatwoot":
            if self._chatwoot is None:
                self._chatwoot = ChatwootDesk.from_settings(
                    self.settings.teams_file,
                    self.settings.handoff_rules_file,
                    self.settings.chatwoot_url,
                    self.settings.chatwoot_account_id,
                    self.settings.chatwoot_api_token,
                    self.settings.locales_dir,
                    timeout=self.settings.backend_timeout,
                )
            return self._chatwoot
        if self._handoff is None:
            self._handoff = HandoffDesk.from_files(
                self.settings.teams_file,
                self.settings.handoff_database_url,
                rules_file=self.settings.handoff_rules_file,
            )
        return self._handoff

    def customer_links(self) -> CustomerLinks:
        """Channel identities linked to customers, in the handoff database (no I/O here: the
        tables are created on first use)."""
        if self._customer_links is None:
            store = IdentityStore(self.settings.handoff_database_url)
            self._customer_links = CustomerLinks(store, self.desk)
        return self._customer_links


@lru_cache(maxsize=1)
def default_services() -> Services:
    return Services.from_settings(Settings.from_env())
