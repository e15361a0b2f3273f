"""Train a model only when the data changed.

The model is named after a fingerprint of everything that shapes it (config, domain, training
data, the Rasa version), so ``make run`` and ``make test`` reuse ``models/borderless-<hash>``
when nothing changed and retrain, visibly, when something did.

    python -m borderless.training          # train if needed; prints the model path
    python -m borderless.training --check  # exit 1 if a training is needed
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from borderless.settings import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "models"
INPUTS = ("config.yml", "domain.yml", "data")


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(f"rasa {version('rasa')}\n".encode())
    for name in INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    return root / "models" / f"borderless-{fingerprint(root)}.tar.gz"


def train(root: Path = PROJECT_ROOT) -> Path:
    target = model_path(root)
    if target.exists():
        print(f"==> model is up to date: {target.relative_to(root)}", flush=True)
        return target
    print(f"==> training {target.name} (data changed; a few minutes on 2 cores)", flush=True)
    started = time.monotonic()
    command = train_command(target)
    subprocess.run(command, cwd=root, check=True)
    print(f"==> trained in {time.monotonic() - started:.0f} s: {target.relative_to(root)}")
    _prune(target.parent, keep=3)
    return target


def train_command(target: Path, finetune: Path | None = None) -> list[str]:
    """The ``rasa train`` command line for ``target`` (run in the project folder); with
    ``finetune``, an incremental training from that model (same config and domain needed)."""
    command = [
        str(Path(sys.executable).with_name("rasa")),
        "train",
        "--config", "config.yml",
        "--domain", "domain.yml",
        "--data", "data",
        "--out", str(target.parent),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    if finetune is not None:
        command += ["--finetune", str(finetune), "--epoch-fraction", "0.5"]
    return command


def _prune(models: Path, keep: int) -> None:
    """Keep the newest few models (a rollback is a retrain away; disks are not endless)."""
    old = sorted(models.glob("borderless-*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-keep]
    for path in old:
        path.unlink()


def main(argv: list[str]) -> int:
    if "--check" in argv:
        return 0 if model_path().exists() else 1
    try:
        train()
    except subprocess.CalledProcessError as error:
        print(f"training failed (exit {error.returncode}); see the output above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
