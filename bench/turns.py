"""Turn latency and throughput under concurrent conversations: Borderless vs a stock Rasa bot.

Starts the real Borderless stack (reference shop, action server, Rasa with the trained model)
on free loopback ports, drives it through the REST channel with a realistic mix of whole
conversations in nine languages, first with 1 and then with 32 simulated customers at once,
then does the same with the stock ``rasa init`` bot in ``bench/stock_bot/`` (trained on first
use, cached in ``bench/stock_bot/models/``), and prints one table:
system x concurrency -> turns, p50, p95, turns/s, errors, unexpected replies.

Usage (from the repository root; the environment comes from .env.example):

    set -a; . ./.env.example; set +a
    .venv/bin/python bench/turns.py [--conversations 60] [--concurrency 1 32]
                                    [--max-seconds 300] [--timeout 30]
                                    [--model models/borderless-<fingerprint>.tar.gz]
                                    [--only borderless|stock]

Each simulated customer runs whole conversations one after another (every turn waits for the
bot's reply); a level ends when its ``--conversations`` are done or after ``--max-seconds``
(no new turn starts after that). Every request has a ``--timeout``. ``errors`` counts failed
requests (timeout, connection error, HTTP status other than 200) and empty replies;
``unexpected`` counts replies that miss what the turn must contain (an order lookup that does
not name the order, e.g. because a backend call timed out and the customer got an apology).
Only 127.0.0.1 is ever contacted. All servers are stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from borderless import launcher, training

BENCH_DIR = Path(__file__).resolve().parent
STOCK_DIR = BENCH_DIR / "stock_bot"
STOCK_CACHE = STOCK_DIR / "models"
STOCK_FILES = ("config.yml", "domain.yml", "data/nlu.yml", "data/stories.yml", "data/rules.yml")
REQUIRED_ENV = ("RASA_AUTH_TOKEN", "SHOP_API_TOKEN", "BACKEND_TIMEOUT", "SHIPPING_CONFIG")


@dataclass(frozen=True)
class Turn:
    text: str
    expect: str = ""  # a substring the reply must contain ("" = any non-empty reply)


Conversation = tuple[str, tuple[Turn, ...]]  # (kind, turns)


# --- The Borderless mix ------------------------------------------------------------------
# Phrasings from data/nlu/<language>/ and tests/e2e/test_rest.py; demo orders from
# demo/orders.yml (BL-10001 Anna Schmidt, BL-10002 John Miller).
ANNA = ("BL-10001", "anna.schmidt@example.de")
JOHN = ("BL-10002", "john.miller@example.com")


@dataclass(frozen=True)
class Phrases:
    greet: str
    thanks: str
    complaint: str
    ask_order: str  # "where is my order" without number: starts the form
    order_in_one: str  # number and email in one message, {number} {email} placeholders
    shipping: str


LANGUAGES: dict[str, Phrases] = {
    "en": Phrases("Hello!", "thanks a lot", "this is the worst service ever",
                  "Hi, where is my order?",
                  "Where is my order {number}? My email is {email}",
                  "How long does shipping to the United States take?"),
    "de": Phrases("hallo", "danke schön", "ich bin echt enttäuscht", "wo ist meine bestellung",
                  "Wo ist meine Bestellung {number}? Meine E-Mail ist {email}",
                  "Wie lange dauert der Versand nach Österreich?"),
    "fr": Phrases("bonjour", "merci beaucoup", "je suis très déçu", "où est ma commande ?",
                  "Où est ma commande {number} ? Mon e-mail est {email}",
                  "Combien de temps faut-il pour livrer en France ?"),
    "es": Phrases("¡hola!", "muchas gracias", "estoy muy decepcionado", "¿dónde está mi pedido?",
                  "¿Dónde está mi pedido {number}? Mi correo es {email}",
                  "¿Cuánto tarda el envío a México?"),
    "it": Phrases("buongiorno", "grazie mille", "servizio pessimo", "dov'è il mio ordine?",
                  "Dov'è il mio ordine {number}? La mia email è {email}",
                  "Quanto tempo ci vuole per la spedizione in Italia?"),
    "pt": Phrases("olá", "muito obrigado", "atendimento péssimo", "cadê meu pedido?",
                  "Cadê meu pedido {number}? Meu e-mail é {email}",
                  "Quanto tempo demora o frete para o Brasil?"),
    "ja": Phrases("こんにちは", "ありがとうございます", "ひどい対応ですね",
                  "注文した商品はどこですか？",
                  "注文{number}はどこですか？メールは{email}です",
                  "日本までの配送にはどのくらいかかりますか？"),
    "zh": Phrases("你好", "谢谢", "太差了", "我的订单到哪了？",
                  "我的订单{number}到哪了？邮箱是{email}",
                  "寄到中国大概需要多久？"),
    "ar": Phrases("السلام عليكم", "شكرا جزيلا", "خدمة سيئة جدا", "أين طلبي؟",
                  "أين طلبي {number}؟ بريدي الإلكتروني {email}",
                  "كم يستغرق الشحن إلى السعودية؟"),
}  # fmt: skip


# The flows of the order-change and answers work, read-only so the demo shop can be reused:
# refund status in one message (BL-10016 has a refunded return), a stock question from the
# catalog, a double charge (policies + offer of a person). Phrasings from tests/e2e.
REFUND = ("BL-10016", "jonas.becker@example.de")
FLOWS: dict[str, tuple[str, str, str]] = {
    "en": ("Where is my refund? Order {number}, email {email}", "Is the smartwatch in stock?",
           "I was charged twice for my order"),
    "de": ("Wann bekomme ich mein Geld zurück? Bestellung {number}, E-Mail {email}",
           "Ist die Smartwatch auf Lager?", "Mir wurde die Bestellung doppelt abgebucht"),
    "fr": ("Où en est mon remboursement ? Commande {number}, e-mail {email}",
           "La montre connectée est-elle en stock ?", "J'ai été débité deux fois pour ma commande"),
    "es": ("¿Dónde está mi reembolso? Pedido {number}, correo {email}",
           "¿El reloj inteligente está disponible?", "Me cobraron dos veces el pedido"),
    "it": ("Dov'è il mio rimborso? Ordine {number}, email {email}",
           "L'orologio smart è disponibile?", "Mi avete addebitato due volte l'ordine"),
    "pt": ("Cadê meu reembolso? Pedido {number}, e-mail {email}",
           "O relógio inteligente está em estoque?", "Fui cobrado duas vezes pelo pedido"),
    "ja": ("返金状況を教えてください。注文{number}、メールは{email}です",
           "スマートウォッチの在庫はありますか？", "注文の代金が二重に請求されました"),
    "zh": ("退款进度怎么样？订单{number}，邮箱{email}", "智能手表有货吗？", "我的订单被扣了两次钱"),
    "ar": ("متى ترجع فلوسي؟ الطلب {number} والبريد {email}", "هل الساعة الذكية متوفرة؟",
           "تم خصم المبلغ مرتين من بطاقتي"),
}  # fmt: skip


def borderless_conversations() -> list[Conversation]:
    """Eight kinds of conversation per language, interleaved so any prefix is a fair mix."""
    by_kind: list[list[Conversation]] = [[], [], [], [], [], [], [], []]
    for index, (language, say) in enumerate(LANGUAGES.items()):
        number, email = ANNA if index % 2 else JOHN
        one = say.order_in_one.format(number=number, email=email)
        by_kind[0].append(
            (
                f"greet+lookup+thanks/{language}",
                (Turn(say.greet), Turn(one, expect=number), Turn(say.thanks)),
            )
        )
        by_kind[1].append(
            (
                f"lookup via form/{language}",
                (Turn(say.ask_order), Turn(number), Turn(email, expect=number)),
            )
        )
        by_kind[2].append((f"shipping time/{language}", (Turn(say.shipping),)))
        by_kind[3].append(
            (
                f"wrong email/{language}",
                (Turn(say.order_in_one.format(number=number, email="mallory@example.com")),),
            )
        )
        by_kind[4].append((f"complaint/{language}", (Turn(say.greet), Turn(say.complaint))))
        refund, stock, charged = FLOWS[language]
        by_kind[5].append(
            (
                f"refund status/{language}",
                (Turn(refund.format(number=REFUND[0], email=REFUND[1]), expect="R10016"),),
            )
        )
        by_kind[6].append((f"stock question/{language}", (Turn(stock),)))
        by_kind[7].append((f"double charge/{language}", (Turn(charged),)))
    return [c for group in zip(*by_kind, strict=True) for c in group]


# --- The stock `rasa init` mix: its own intents, same shape of conversations ---------------
STOCK_CONVERSATIONS: list[Conversation] = [
    ("greet+mood_great+goodbye", (Turn("hello there"), Turn("perfect"), Turn("bye"))),
    ("greet+mood_unhappy+affirm", (Turn("hi"), Turn("I am sad"), Turn("yes"))),
    ("bot_challenge", (Turn("are you a bot?"),)),
    ("greet+deny+goodbye", (Turn("good morning"), Turn("very bad"), Turn("no"),
                            Turn("goodbye"))),
    ("greet+bot_challenge", (Turn("hey"), Turn("am I talking to a human?"))),
]  # fmt: skip


# --- Measuring ----------------------------------------------------------------------------
@dataclass
class Level:
    system: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    unexpected: int = 0
    conversations: int = 0
    seconds: float = 0.0
    first_error: str = ""

    def row(self) -> str:
        values = self.latencies_ms
        p50 = f"{percentile(values, 0.50):.0f}" if values else "-"
        p95 = f"{percentile(values, 0.95):.0f}" if values else "-"
        rate = len(values) / self.seconds if self.seconds else 0.0
        return (
            f"{self.system:<12}{self.concurrency:>6}{self.conversations:>7}{len(values):>7}"
            f"{p50:>9}{p95:>9}{rate:>9.1f}{self.errors:>8}{self.unexpected:>12}"
        )


HEADER = (
    f"{'system':<12}{'conc':>6}{'convs':>7}{'turns':>7}{'p50 ms':>9}{'p95 ms':>9}"
    f"{'turns/s':>9}{'errors':>8}{'unexpected':>12}"
)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def require_loopback(url: str) -> str:
    if urlsplit(url).hostname != "127.0.0.1":
        raise SystemExit(f"error: refusing to benchmark {url}: only 127.0.0.1 targets")
    return url.rstrip("/")


async def say(
    session: aiohttp.ClientSession, webhook: str, sender: str, turn: Turn, level: Level | None
) -> None:
    """One turn; recorded in ``level`` (None: warm-up, failures raise)."""
    started = time.perf_counter()
    problem = ""
    replies: list[dict[str, object]] = []
    try:
        async with session.post(webhook, json={"sender": sender, "message": turn.text}) as r:
            if r.status != 200:
                problem = f"HTTP {r.status}: {(await r.text())[:200]}"
            else:
                replies = await r.json()
                if not replies:
                    problem = f"empty reply to {turn.text!r}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        problem = f"{type(error).__name__}: {error}"
    elapsed_ms = (time.perf_counter() - started) * 1000
    if level is None:
        if problem:
            raise RuntimeError(f"warm-up turn {turn.text!r} failed: {problem}")
        return
    if problem:
        level.errors += 1
        level.first_error = level.first_error or problem
        return
    level.latencies_ms.append(elapsed_ms)
    text = "\n".join(str(reply.get("text", "")) for reply in replies)
    if turn.expect and turn.expect not in text:
        level.unexpected += 1


async def run_level(
    system: str,
    url: str,
    mix: Sequence[Conversation],
    concurrency: int,
    conversations: int,
    max_seconds: float,
    timeout: float,
) -> Level:
    level = Level(system, concurrency)
    webhook = f"{require_loopback(url)}/webhooks/rest/webhook"
    queue = itertools.islice(itertools.cycle(mix), conversations)
    run_id = uuid.uuid4().hex[:6]
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as session:
        started = time.perf_counter()
        deadline = started + max_seconds

        async def customer(number: int) -> None:
            # A shared iterator: each customer takes the next whole conversation.
            for index, (_kind, turns) in enumerate(queue):
                sender = f"bench-{run_id}-{concurrency}-{number}-{index}"
                for turn in turns:
                    if time.perf_counter() > deadline:
                        return
                    await say(session, webhook, sender, turn, level)
                level.conversations += 1

        try:
            await asyncio.wait_for(
                asyncio.gather(*(customer(n) for n in range(concurrency))),
                timeout=max_seconds + timeout + 5,
            )
        except asyncio.TimeoutError:  # a backstop: the deadline and timeouts end it sooner
            level.first_error = level.first_error or "level cancelled at the wall-clock cap"
        level.seconds = time.perf_counter() - started
    return level


async def measure(
    system: str, url: str, mix: Sequence[Conversation], args: argparse.Namespace
) -> list[Level]:
    webhook = f"{require_loopback(url)}/webhooks/rest/webhook"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        for kind, turns in mix:  # not measured: first calls load lazy parts
            for turn in turns:
                await say(session, webhook, f"warm-up-{kind}", turn, None)
    levels = []
    for concurrency in args.concurrency:
        level = await run_level(
            system, url, mix, concurrency, args.conversations, args.max_seconds, args.timeout
        )
        print(level.row(), flush=True)
        if level.first_error:
            print(f"    first error: {level.first_error}", flush=True)
        levels.append(level)
    return levels


# --- The stock bot: train once, run in its own process group -------------------------------
def stock_model(log_dir: Path) -> Path:
    """The cached stock model for the current files, trained into a temp dir if missing."""
    missing = [name for name in STOCK_FILES if not (STOCK_DIR / name).exists()]
    if missing:
        raise SystemExit(f"error: {STOCK_DIR} lacks {', '.join(missing)} (see rasa init)")
    digest = hashlib.sha256()
    for name in STOCK_FILES:
        digest.update(name.encode() + b"\0" + (STOCK_DIR / name).read_bytes() + b"\0")
    target = STOCK_CACHE / f"stock-{digest.hexdigest()[:12]}.tar.gz"
    if target.exists():
        return target
    print(f"training the stock bot ({target.name}, ~1-2 min)...", flush=True)
    # rasa train rewrites config.yml (assistant_id) and caches in .rasa/: train a copy.
    workdir = log_dir / "stock-train"
    for name in STOCK_FILES:
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STOCK_DIR / name, workdir / name)
    log = log_dir / "stock-train.log"
    command = [rasa_executable(), "train", "--config", "config.yml", "--domain", "domain.yml",
               "--data", "data", "--out", "out", "--fixed-model-name", "stock"]  # fmt: skip
    with log.open("wb") as log_file, process_group(command, workdir, log_file) as process:
        code = process.wait()
    if code != 0:
        raise SystemExit(f"error: training the stock bot failed ({code}):\n{tail(log)}")
    STOCK_CACHE.mkdir(exist_ok=True)
    shutil.move(workdir / "out" / "stock.tar.gz", target)
    return target


@contextmanager
def process_group(
    command: list[str], cwd: Path, log_file: IO[bytes], env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` in its own session; SIGTERM (then SIGKILL) its whole group on exit."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def stock_server(model: Path, log_dir: Path) -> Iterator[str]:
    """``rasa run`` for the stock bot on a free loopback port; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = log_dir / "stock-rasa.log"
    command = [rasa_executable(), "run", "--model", str(model), "--interface", "127.0.0.1",
               "--port", str(port), "--endpoints", str(STOCK_DIR / "endpoints.yml"),
               "--credentials", str(STOCK_DIR / "credentials.yml")]  # fmt: skip
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    with log.open("wb") as log_file, process_group(command, log_dir, log_file, env) as process:
        started = time.monotonic()
        while not healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"stock rasa exited with {process.returncode}:\n{tail(log)}")
            if time.monotonic() - started > 240:
                raise RuntimeError(f"stock rasa did not answer {url} within 240 s:\n{tail(log)}")
            time.sleep(0.5)
        yield url


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def rasa_executable() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- Main ---------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=60, help="per level (default 60)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--max-seconds", type=float, default=300, help="wall-clock cap per level")
    parser.add_argument("--timeout", type=float, default=30, help="seconds per request")
    parser.add_argument("--model", type=Path, help="Borderless model (default: current data's)")
    parser.add_argument("--only", choices=["borderless", "stock"])
    args = parser.parse_args()

    def on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    levels: list[Level] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-turns-") as tmp:
            print(HEADER, flush=True)
            if args.only != "stock":
                levels += run_borderless(args, Path(tmp))
            if args.only != "borderless":
                log_dir = Path(tmp)
                with stock_server(stock_model(log_dir), log_dir) as url:
                    levels += asyncio.run(measure("stock", url, STOCK_CONVERSATIONS, args))
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    load = os.getloadavg()
    print(f"\n{HEADER}")
    for level in levels:
        print(level.row())
    print(f"(cpus: {os.cpu_count()}, load average now: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    return 0


def run_borderless(args: argparse.Namespace, log_dir: Path) -> list[Level]:
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise SystemExit(
            f"error: {', '.join(missing)} not set: run `set -a; . ./.env.example; set +a` first"
        )
    model = Path(args.model or os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        raise SystemExit(
            f"error: no trained model at {model}: run `.venv/bin/python -m borderless.training`"
            " or pass --model models/borderless-<fingerprint>.tar.gz"
        )
    print(f"(borderless model: {model.name})", flush=True)
    with launcher.stack({"RASA_MODEL": str(model.resolve())}, log_dir) as env:
        return asyncio.run(measure("borderless", env["RASA_URL"], borderless_conversations(), args))


if __name__ == "__main__":
    sys.exit(main())
