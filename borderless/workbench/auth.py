"""Trainer accounts and their permissions; passwords and sessions come from the console's auth.

Users live in ``demo/trainers.yml`` with roles (``trainer`` may log in and annotate,
``see_personal_data`` sees emails, phone numbers, order numbers and names unmasked). Password
hashing, the signed session cookie, CSRF tokens and the login rate limit are
:mod:`borderless.handoff.auth`'s, imported rather than copied; the workbench signs its cookies
with its own secret (``WORKBENCH_SECRET``) and cookie name, so a console session is not a
workbench session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from borderless.handoff.auth import hash_password, verify_password

TRAINER = "trainer"
SEE_PERSONAL_DATA = "see_personal_data"
ROLES = (TRAINER, SEE_PERSONAL_DATA)
COOKIE_NAME = "borderless_workbench"

_DUMMY_HASH = hash_password("borderless-no-such-trainer", salt=b"\1" * 16)


class TrainerConfigError(ValueError):
    """The trainers file is wrong; the message names the user and the field."""


@dataclass(frozen=True)
class Trainer:
    username: str
    display_name: str
    roles: frozenset[str]
    password_hash: str

    def can(self, role: str) -> bool:
        return role in self.roles


def load_trainers(path: Path | str) -> dict[str, Trainer]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = data.get("trainers")
    if not isinstance(entries, Mapping):
        raise TrainerConfigError(f"{path}: expected a mapping under 'trainers'")
    trainers: dict[str, Trainer] = {}
    for username, raw in entries.items():
        if not isinstance(raw, Mapping):
            raise TrainerConfigError(f"trainer {username!r}: expected a mapping")
        password_hash = raw.get("password_hash")
        if not isinstance(password_hash, str) or not password_hash.startswith("scrypt$"):
            raise TrainerConfigError(f"trainer {username!r}: password_hash must be a scrypt$ hash")
        roles = raw.get("roles") or []
        if not isinstance(roles, list) or not set(roles) <= set(ROLES):
            raise TrainerConfigError(f"trainer {username!r}: roles must be a list of {ROLES}")
        trainers[str(username)] = Trainer(
            str(username), str(raw.get("name") or username), frozenset(roles), password_hash
        )
    return trainers


def authenticate(trainers: Mapping[str, Trainer], username: str, password: str) -> Trainer | None:
    """The trainer, if the password is right and the account has the trainer role.

    Unknown users cost the same scrypt as wrong passwords (no username probing by timing).
    """
    trainer = trainers.get(username)
    ok = verify_password(password, trainer.password_hash if trainer else _DUMMY_HASH)
    if ok and trainer is not None and trainer.can(TRAINER):
        return trainer
    return None
