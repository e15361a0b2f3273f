"""What the tracking aggregator adapters share: status codes, time stamps, numbers, carriers.

AfterShip and 17TRACK each have a main status (AfterShip "tag", 17TRACK "status") and a finer
sub-status ("subtag", "sub_status"). Replies are chosen from ``TrackingStatus`` alone, so every
code the customer could be told about is mapped here, in tables, and nowhere else.

Customs gets special care because it is the question cross-border customers ask most, and
neither vendor reliably says it: their main status is plain "in transit" while a parcel waits at
customs. So, in order:

1. a sub-status with a verdict of its own (customs started, customs cleared, ...) decides;
2. otherwise the main status decides;
3. only if that is "in transit", a checkpoint message that mentions customs in one of the
   languages carriers on our routes write in turns it into ``CUSTOMS`` -- unless the message
   says customs is done ("released", "清关完成"), which is ordinary transit again.

Pure functions over strings, so the vocabulary is unit-tested without any HTTP.

Confidence tags as in ``/work/shared/reference/external-apis.md``: [V] read in the vendor's own
docs, [S] only third-party sources (client libraries) back it, [M] not checked in any source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from borderless.commerce.models import TrackingStatus

S = TrackingStatus

# --- AfterShip --------------------------------------------------------------------------------

# The nine tags. [V] https://www.aftership.com/docs/tracking/2025-01/enum/delivery-statuses
# "Pending" (created, nothing from the carrier yet) is deliberately absent: it is no status to
# report, and ``aftership_status`` returns None for it, as for any tag it does not know.
AFTERSHIP_TAGS: Mapping[str, TrackingStatus] = {
    "InfoReceived": S.INFO_RECEIVED,
    "InTransit": S.IN_TRANSIT,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "AttemptFail": S.DELIVERY_FAILED,
    "Delivered": S.DELIVERED,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    "Exception": S.EXCEPTION,
    "Expired": S.EXPIRED,  # no information for 30 days [V]
}

# Subtags with a verdict of their own; every other subtag counts as its tag ("InTransit_003" as
# "InTransit"). Meanings: [V] https://www.aftership.com/docs/tracking/2025-04/enum/delivery-sub-statuses
# for Exception_004 only; the rest [S], from a public copy of AfterShip's subtag list (a PHP
# client's table of all 40 subtags), which also says InTransit_007 is a departure scan, as the
# docs do.
AFTERSHIP_SUBTAGS: Mapping[str, TrackingStatus] = {
    "InTransit_006": S.CUSTOMS,  # "Customs clearance started: handed over to customs" [S]
    "InTransit_005": S.IN_TRANSIT,  # "Customs clearance completed" [S]: moving again
    "Exception_004": S.CUSTOMS,  # "Delayed (Customs clearance)" [V]
    "OutForDelivery_002": S.AVAILABLE_FOR_PICKUP,  # "arrived ... available for pickup" [S]
}

# --- 17TRACK ----------------------------------------------------------------------------------

# Main statuses of API v2.2. [M; S partial] external-apis.md 1c; the nine names also appear in
# public clients. "NotFound" (registered, the carrier knows nothing yet) is deliberately absent.
SEVENTEENTRACK_STATUSES: Mapping[str, TrackingStatus] = {
    "InfoReceived": S.INFO_RECEIVED,
    "InTransit": S.IN_TRANSIT,
    "Expired": S.EXPIRED,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "DeliveryFailure": S.DELIVERY_FAILED,
    "Delivered": S.DELIVERED,
    "Exception": S.EXCEPTION,
}

# Sub-statuses with a verdict of their own; the others count as the status before "_".
# All [S]: the names come from public clients' enums of the ~30 v2.2 sub-statuses, not from
# 17TRACK's document; the customs meanings are read from the names, so they are unverified.
SEVENTEENTRACK_SUB_STATUSES: Mapping[str, TrackingStatus] = {
    "InTransit_CustomsProcessing": S.CUSTOMS,  # [S]
    "InTransit_CustomsRequiringInformation": S.CUSTOMS,  # customs wants documents [S]
    "InTransit_CustomsReleased": S.IN_TRANSIT,  # cleared, moving again [S]
    # [M] Described by clients as held for customs or security inspection; not in the docs we
    # read. DeliveryFailure_Security stays a failed delivery: the parcel was at the door.
    "Exception_Security": S.CUSTOMS,
}

# --- Customs in checkpoint messages -----------------------------------------------------------

# Substrings, matched case-insensitively anywhere in the message: CJK has no spaces, German and
# Romance words take suffixes (Zollamt, Verzollung, douanier, aduanero, aduaneira, doganale).
CUSTOMS_WORDS: tuple[str, ...] = (
    "customs",  # English ("customer" does not contain it)
    "zoll",  # German: Zoll, Zollamt, Verzollung, Zollabfertigung
    "douan",  # French / Dutch: douane, dédouanement, douanier
    "aduan",  # Spanish aduana, aduanero; Portuguese aduaneira ("fiscalização aduaneira")
    "dogan",  # Italian: dogana, doganale
    "alfândeg",  # Portuguese: alfândega
    "alfandeg",  # ... as often written without the accent
    "通关",  # Chinese, simplified: clearance
    "清关",  # clearance
    "海关",  # customs office
    "通關",  # ... traditional
    "清關",
    "海關",
    "通関",  # Japanese: clearance
    "税関",  # customs office
    "جمارك",  # Arabic: الجمارك (the customs)
    "جمرك",  # جمركي / التخليص الجمركي (customs clearance)
)

# Words saying customs is finished. A message with both ("Customs clearance completed",
# "海关放行") reports a parcel moving on, not one waiting at customs.
CUSTOMS_DONE_WORDS: tuple[str, ...] = (
    "released",
    "cleared",
    "complete",  # complete(d); also Spanish completado, Italian completato
    "freigegeben",  # German
    "abgeschlossen",
    "dédouané",  # French: cleared (not "dédouanement", the process)
    "terminé",
    "liberad",  # Spanish / Portuguese: liberado, liberada
    "finaliz",  # finalizado, finalizada
    "concluíd",  # Portuguese: concluído
    "desembaraçad",  # Portuguese: desembaraçado (cleared)
    "sdoganat",  # Italian: sdoganato (cleared)
    "放行",  # Chinese: released
    "完成",  # completed
    "許可",  # Japanese: 輸入許可 / 通関許可 (import permit granted)
    "完了",  # completed
    "إفراج",  # Arabic: release
    "افراج",
)


def mentions_customs(message: str | None) -> bool:
    """Whether a checkpoint message says the parcel is at (not past) customs."""
    if not message:
        return False
    text = message.casefold()
    if not any(word in text for word in CUSTOMS_WORDS):
        return False
    return not any(word in text for word in CUSTOMS_DONE_WORDS)


def aftership_status(
    tag: str | None,
    subtag: str | None = None,
    message: str | None = None,
    *,
    default: TrackingStatus | None = None,
) -> TrackingStatus | None:
    """Our status for an AfterShip tag and subtag (of a tracking or of one checkpoint).

    ``None`` (or ``default``) for "Pending" and for codes AfterShip may add later: the caller
    decides what "nothing to report" means where it stands.
    """
    return _normalize(tag, subtag, message, AFTERSHIP_TAGS, AFTERSHIP_SUBTAGS, default)


def seventeentrack_status(
    status: str | None,
    sub_status: str | None = None,
    message: str | None = None,
    *,
    default: TrackingStatus | None = None,
) -> TrackingStatus | None:
    """Our status for a 17TRACK status and sub-status (of a number or of one event).

    ``None`` (or ``default``) for "NotFound" and for unknown codes, as ``aftership_status``.
    Events often carry only a ``sub_status``; its prefix is taken as the status then.
    """
    return _normalize(
        status, sub_status, message, SEVENTEENTRACK_STATUSES, SEVENTEENTRACK_SUB_STATUSES, default
    )


def _normalize(
    main: str | None,
    sub: str | None,
    message: str | None,
    mains: Mapping[str, TrackingStatus],
    subs: Mapping[str, TrackingStatus],
    default: TrackingStatus | None,
) -> TrackingStatus | None:
    if sub:
        verdict = _lookup(subs, sub)
        if verdict is not None:
            return verdict  # the sub-status has settled the customs question either way
        main = main or sub.split("_", 1)[0]
    status = (_lookup(mains, main) if main else None) or default
    if status is TrackingStatus.IN_TRANSIT and mentions_customs(message):
        return TrackingStatus.CUSTOMS
    return status


def _lookup(table: Mapping[str, TrackingStatus], code: str) -> TrackingStatus | None:
    """Exact first, then case-insensitive: vendors have changed the case of codes before."""
    found = table.get(code.strip())
    if found is not None:
        return found
    folded = code.strip().casefold()
    return next((v for k, v in table.items() if k.casefold() == folded), None)


# --- Time stamps ------------------------------------------------------------------------------


def parse_instant(value: Any, *, assume_utc: bool = True) -> datetime | None:
    """An aware instant from a vendor's ISO 8601 text; ``None`` if there is none to read.

    Both vendors sometimes send the carrier's local wall-clock time without an offset (AfterShip
    documents ``YYYY-MM-DDTHH:mm:ss`` as one of its checkpoint formats); like
    ``models.tracking_from_dict`` we take such a time as UTC rather than guess a zone, unless
    ``assume_utc=False`` asks for ``None`` so that a better field can be used instead.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not take "Z"
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return parsed
    return parsed.replace(tzinfo=timezone.utc) if assume_utc else None


def parse_day(value: Any) -> date | None:
    """The calendar day of a vendor's date or date-time, in the offset it was written in.

    An estimated delivery of ``2025-03-12T23:59:59+01:00`` is the 12th where the parcel is
    going, even though it is the 12th at 22:59 in UTC; converting would shift some days.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) == 10 else _local_day(text)
    except ValueError:
        return None


def _local_day(text: str) -> date:
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).date()


# --- Numbers and carriers ---------------------------------------------------------------------


def compact_number(tracking_number: str) -> str:
    """The number as vendors want it: without the spaces people and shops put in."""
    return "".join(tracking_number.split())


def carrier_key(carrier: str) -> str:
    """How carrier tables are keyed: "China Post", "china-post", " CHINA  POST" are the same."""
    return re.sub(r"[\s_\-]+", " ", carrier.casefold()).strip()
