"""The one place that reads the environment.

Every variable has a default that runs the embedded reference setup on one machine; production
overrides them (see ``.env.example``). Nothing else in ``borderless`` calls ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderless.commerce.systems import read_commerce_section

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    shop_url: str = "http://127.0.0.1:5080"
    shop_api_token: str = "dev-shop-token"
    shop_database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'shop.db'}"
    # The whole customer-facing budget for one backend call (lookup or tracking), retries
    # included; beyond it the customer gets an apology and the offer of a human.
    backend_timeout: float = 2.5
    order_number_pattern: str | None = None
    support_email: str = "support@borderless-demo.example"
    locales_dir: Path = PROJECT_ROOT / "locales"
    shipping_file: Path = PROJECT_ROOT / "demo" / "shipping.yml"
    # What the shop sells (prices, sizes, stock) and its policies per market (payments,
    # duties, warranty): borderless/commerce/catalog.py and policies.py.
    catalog_file: Path = PROJECT_ROOT / "demo" / "catalog.yml"
    policies_file: Path = PROJECT_ROOT / "demo" / "policies.yml"
    # "console": hand conversations to the agent console (tickets, paused bot); "email": only
    # tell the customer how to reach the team.
    handoff_desk: str = "console"
    handoff_database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'handoff.db'}"
    teams_file: Path = PROJECT_ROOT / "demo" / "teams.yml"
    # Sensitive topics, frustration threshold and VIP rules (borderless/handoff/triggers.py).
    handoff_rules_file: Path = PROJECT_ROOT / "demo" / "handoff_rules.yml"
    # HANDOFF_DESK=chatwoot: the Chatwoot account whose agents take over (borderless/handoff/
    # chatwoot.py); the token is the agent bot's (or a user's) api_access_token.
    chatwoot_url: str = "http://127.0.0.1:3000"
    chatwoot_account_id: int = 1
    chatwoot_api_token: str = ""
    # The return policy per market, and the catalog that says which products are final sale.
    returns_file: Path = PROJECT_ROOT / "demo" / "returns.yml"
    # The `commerce:` section of endpoints.yml with ${VAR}s expanded (borderless/commerce/
    # systems.py): which order and logistics systems to use.
    commerce: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            shop_url=env.get("SHOP_URL", defaults.shop_url).rstrip("/"),
            shop_api_token=env.get("SHOP_API_TOKEN", defaults.shop_api_token),
            shop_database_url=env.get("SHOP_DATABASE_URL", defaults.shop_database_url),
            backend_timeout=float(env.get("BACKEND_TIMEOUT", defaults.backend_timeout)),
            order_number_pattern=env.get("ORDER_NUMBER_PATTERN") or None,
            support_email=env.get("SUPPORT_EMAIL", defaults.support_email),
            locales_dir=_project_path(env.get("LOCALES_DIR"), defaults.locales_dir),
            shipping_file=_project_path(env.get("SHIPPING_CONFIG"), defaults.shipping_file),
            catalog_file=_project_path(env.get("CATALOG_FILE"), defaults.catalog_file),
            policies_file=_project_path(env.get("POLICIES_FILE"), defaults.policies_file),
            handoff_desk=env.get("HANDOFF_DESK", defaults.handoff_desk).strip().lower(),
            handoff_database_url=env.get("HANDOFF_DATABASE_URL", defaults.handoff_database_url),
            teams_file=_project_path(env.get("TEAMS_FILE"), defaults.teams_file),
            handoff_rules_file=_project_path(
                env.get("HANDOFF_RULES_FILE"), defaults.handoff_rules_file
            ),
            chatwoot_url=env.get("CHATWOOT_URL", defaults.chatwoot_url).rstrip("/"),
            chatwoot_account_id=int(env.get("CHATWOOT_ACCOUNT_ID") or defaults.chatwoot_account_id),
            chatwoot_api_token=env.get("CHATWOOT_API_TOKEN", defaults.chatwoot_api_token),
            returns_file=_project_path(env.get("RETURN_POLICY_FILE"), defaults.returns_file),
            commerce=read_commerce_section(
                _project_path(env.get("ENDPOINTS_FILE"), PROJECT_ROOT / "endpoints.yml"), env
            ),
        )


def _project_path(value: str | None, default: Path) -> Path:
    """Relative paths in the environment are relative to the project, not to the cwd."""
    if not value:
        return default
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path
