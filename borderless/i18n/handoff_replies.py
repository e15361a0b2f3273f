"""What the customer is told when a person takes over, in their language and time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel import Locale

from borderless.handoff.desk import Handover
from borderless.handoff.routing import RoutingMode
from borderless.i18n.formatting import format_moment, locale_for
from borderless.i18n.order_replies import Reply


def handoff_replies(
    handover: Handover, language: str, customer_tz: ZoneInfo, support_email: str
) -> list[Reply]:
    routing = handover.routing
    team = routing.team.name if routing.team else ""
    if routing.mode is RoutingMode.QUEUED:
        if routing.reply_by is None:
            return [Reply("utter_handoff_unavailable", {"support_email": support_email})]
        when = format_moment(routing.reply_by, locale_for(language), customer_tz)
        return [Reply("utter_handoff_queued", {"reply_by": when})]
    if routing.switches_language:
        own = Locale.parse(routing.language)
        name = own.get_display_name(own) or routing.language
        return [
            Reply(
                "utter_handoff_other_language",
                {"team": team, "agent_language": name[:1].upper() + name[1:]},
            )
        ]
    return [Reply("utter_handoff_now", {"team": team})]
