"""Command line of the reference shop.

    python -m borderless.store serve --host 127.0.0.1 --port 5080 \\
        --database-url sqlite:///var/shop.db --seed demo/orders.yml [--reset]
    python -m borderless.store seed --database-url sqlite:///var/shop.db --reset [demo/orders.yml]

Defaults come from SHOP_DATABASE_URL (sqlite:///var/shop.db), SHOP_PORT (5080) and
SHOP_API_TOKEN (dev-shop-token). The token is read from the environment only, so it never shows
up in ``ps``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

DEFAULT_DATABASE_URL = "sqlite:///var/shop.db"
DEFAULT_API_TOKEN = "dev-shop-token"
DEFAULT_PORT = 5080
DEFAULT_FIXTURE = "demo/orders.yml"

logger = logging.getLogger("borderless.store")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve" and args.reset and not args.seed:
        parser.error("serve --reset needs --seed FIXTURE (it reseeds from scratch)")
    _log_to_stderr()
    if args.command == "seed":
        return _seed(args)
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    from borderless.store.app import create_app

    token = os.environ.get("SHOP_API_TOKEN") or DEFAULT_API_TOKEN
    if token == DEFAULT_API_TOKEN and args.host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on %s with the default API token; set SHOP_API_TOKEN", args.host)
    app = create_app(args.database_url, token, args.seed, reset=args.reset)
    app.run(host=args.host, port=args.port, access_log=args.access_log, motd=False)
    return 0


def _seed(args: argparse.Namespace) -> int:
    from borderless.store.schema import make_engine
    from borderless.store.seed import FixtureError, seed

    engine = make_engine(args.database_url)
    try:
        result = seed(engine, args.fixture, reset=args.reset)
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if result.skipped:
        print("database already holds orders; nothing seeded (use --reset to start over)")
    else:
        print(f"seeded {result.orders} orders from {args.fixture}")
    return 0


def _log_to_stderr() -> None:
    """Our own log lines only: Sanic configures its loggers itself, and a root handler would
    print each of its lines twice."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("borderless")
    package.addHandler(handler)
    package.setLevel(logging.INFO)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m borderless.store",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--database-url",
        default=os.environ.get("SHOP_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="SQLAlchemy URL (default: $SHOP_DATABASE_URL or %(default)s)",
    )
    database.add_argument(
        "--reset", action="store_true", help="drop and recreate the tables before seeding"
    )

    serve = commands.add_parser("serve", parents=[database], help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("SHOP_PORT") or DEFAULT_PORT))
    serve.add_argument("--seed", metavar="FIXTURE", help="seed from this file at start-up if empty")
    serve.add_argument("--access-log", action="store_true", help="log every request")

    seed = commands.add_parser("seed", parents=[database], help="load the fixture and exit")
    seed.add_argument("fixture", nargs="?", default=DEFAULT_FIXTURE)
    return parser


if __name__ == "__main__":
    sys.exit(main())
