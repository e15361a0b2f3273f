"""Guards for the rules a newcomer cannot see from one file (CONVENTIONS.md)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import yaml

from borderless.settings import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


def _imports(package: Path) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for file in package.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[file] = names
    return found


def _top(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_commerce_and_store_do_not_import_rasa() -> None:
    for folder in ("commerce", "store"):
        for file, names in _imports(PROJECT_ROOT / "borderless" / folder).items():
            assert not _top(names) & {"rasa", "rasa_sdk"}, f"{file} imports Rasa"


def test_only_adapters_import_rasa() -> None:
    allowed = ("borderless/nlu/", "borderless/channels/", "borderless/i18n/nlg.py")
    for file, names in _imports(PROJECT_ROOT / "borderless").items():
        relative = file.relative_to(PROJECT_ROOT).as_posix()
        if "rasa" in _top(names) and not relative.startswith(allowed):
            raise AssertionError(f"{relative} imports rasa; only {allowed} may")


def test_nothing_imports_actions() -> None:
    for file, names in _imports(PROJECT_ROOT / "borderless").items():
        assert "actions" not in _top(names), f"{file} imports actions"


def test_every_action_in_code_is_in_the_domain_and_back() -> None:
    import importlib
    import pkgutil

    from rasa_sdk import Action

    import actions

    modules = [
        importlib.import_module(f"actions.{info.name}")
        for info in pkgutil.iter_modules(actions.__path__)
    ]
    in_code = {
        cls().name()
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Action)
        and cls.__module__ == module.__name__
        and not inspect.isabstract(cls)
    }
    assert in_code == set(DOMAIN["actions"])


def test_every_response_named_in_code_exists_in_the_domain() -> None:
    pattern = re.compile(r"[\"'](utter_[a-z_]+)")
    named: set[str] = set()
    for folder in ("actions", "borderless"):
        for file in (PROJECT_ROOT / folder).rglob("*.py"):
            named.update(pattern.findall(file.read_text()))
    prefixes = {n for n in named if n.endswith("_")}  # f"utter_order_status_{status}"
    missing = {n for n in named - prefixes if n not in DOMAIN["responses"]}
    assert not missing, f"responses used in code but not in domain.yml: {missing}"


def test_every_status_has_its_responses() -> None:
    from borderless.commerce.models import OrderStatus, TrackingStatus

    for status in OrderStatus:
        assert f"utter_order_status_{status.value}" in DOMAIN["responses"]
    for tracking in TrackingStatus:
        assert f"utter_checkpoint_{tracking.value}" in DOMAIN["responses"]
