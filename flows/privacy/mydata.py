"""/mydata: everything stored about a person, gathered from every table that holds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.config import LOCALES
from bot.content.guide import Pack
from bot.db.cases import CasesRepo
from bot.db.circles import CirclesRepo
from bot.db.enterprises import EnterprisesRepo
from bot.db.guide import GuideRepo
from bot.db.privacy import PrivacyRepo
from bot.db.users import User
from bot.i18n import LANGUAGE_NAMES
from flows.guide.context import long_date
from flows.match.circles import pseudonym


@dataclass(frozen=True)
class MyData:
    """The repositories /mydata reads; built once, injected as ``mydata``."""

    guide: GuideRepo
    packs: dict[str, Pack]
    enterprises: EnterprisesRepo
    circles: CirclesRepo
    cases: CasesRepo
    privacy: PrivacyRepo

    async def collect(self, user_key: str, user: User | None) -> dict[str, Any]:
        """The template's context: plain values, already in the user's language."""
        footprint = await self.privacy.footprint(user_key)
        if user is None:  # never started: at most the ids of what they just wrote
            return {"known": False, "message_ids": _message_ids(footprint.message_ids)}
        locale = get_i18n().current_locale
        interest = await self.enterprises.interest_of(user_key)
        member = await self.circles.membership(user_key)
        case = await self.cases.active_for(user_key)
        return {
            "known": True,
            "language": LANGUAGE_NAMES[user.locale] if user.locale in LOCALES else None,
            "first_day": long_date(user.created_on, locale),
            "last_day": long_date(user.last_seen_on, locale),
            "roles": _roles(user, footprint.volunteer),
            "guide": await self._guide(user_key, locale),
            "interest": interest.name(locale) if interest else None,
            "interest_day": long_date(footprint.interest_on, locale)
            if footprint.interest_on
            else None,
            "circle": _circle(member.pseudonym, member.reveal) if member else None,
            "joined_day": long_date(footprint.joined_on, locale) if footprint.joined_on else None,
            "invites": footprint.invites,
            "case": _case(case.id, case.status) if case else None,
            "past_cases": _(
                "Past conversations with volunteers: {count} (number, language, topic, "
                "days and your rating; never the messages).",
                "Past conversations with volunteers: {count} (numbers, languages, topics, "
                "days and your ratings; never the messages).",
                footprint.past_cases,
            ).format(count=footprint.past_cases)
            if footprint.past_cases
            else None,
            "events": _(
                "{count} record for the statistics: what was done and on which day, "
                "never any text.",
                "{count} records for the statistics: what was done and on which day, "
                "never any text.",
                footprint.events,
            ).format(count=footprint.events),
            "message_ids": _message_ids(footprint.message_ids),
        }

    async def _guide(self, user_key: str, locale: str) -> list[str]:
        lines = []
        for pack in self.packs.values():
            progress = await self.guide.get(user_key, pack.id)
            if progress is None:
                continue
            text = pack.text(locale)
            if progress.completed:
                line = _("{guide}: read to the end.").format(guide=text.title)
            elif progress.step is not None and progress.step in text.steps:
                line = _("{guide}: the last step you read is “{step}”.").format(
                    guide=text.title, step=text.steps[progress.step].title
                )
            else:
                line = _("{guide}: not started.").format(guide=text.title)
            if progress.checklist is not None:
                done = len(progress.checklist.done)
                total = len(progress.checklist.items)
                line += " " + _(
                    "Your checklist (with your answers to its questions, encrypted): "
                    "{done} of {total} steps ticked."
                ).format(done=done, total=total)
            lines.append(line)
        return lines


def _roles(user: User, volunteer: bool) -> list[str]:
    roles = []
    if volunteer:
        roles.append(_("volunteer (with the alias workers see)"))
    if user.is_coordinator:
        roles.append(_("coordinator"))
    return roles


def _circle(number: int, reveal: bool) -> str:
    if reveal:
        return _(
            "{member} in the circle; you agreed to share your contact with members who "
            "share theirs."
        ).format(member=pseudonym(number))
    return _("{member} in the circle; your contact is not shared.").format(
        member=pseudonym(number)
    )


def _case(number: int, status: str) -> str:
    if status == "open":
        return _("Case #{number}: waiting for a volunteer.").format(number=number)
    return _("Case #{number}: a volunteer is answering.").format(number=number)


def _message_ids(count: int) -> str | None:
    if not count:
        return None
    return _(
        "The numbers (not the contents) of {count} recent message in this chat, "
        "so that /wipe can delete it; kept for about 48 hours at most.",
        "The numbers (not the contents) of {count} recent messages in this chat, "
        "so that /wipe can delete them; kept for about 48 hours at most.",
        count,
    ).format(count=count)
