"""The RFC 5546 §3.2 property rules for each iTIP method, checked before anything is sent.

A failure raises :class:`InviteError` naming the method, the property and the section, so a
wrong invitation is caught here instead of silently becoming a plain attachment in a client.
"""

from __future__ import annotations

from mimeseal.errors import InviteError
from mimeseal.invite.model import Invite


def _fail(invite: Invite, section: str, rule: str) -> InviteError:
    return InviteError(f"METHOD:{invite.method} (RFC 5546 §{section}): {rule}")


def validate(invite: Invite) -> None:
    """Raise :class:`InviteError` if ``invite`` breaks a rule of its method."""
    method, count = invite.method, len(invite.attendees)
    section = {
        "PUBLISH": "3.2.1", "REQUEST": "3.2.2", "REPLY": "3.2.3", "ADD": "3.2.4",
        "CANCEL": "3.2.5", "REFRESH": "3.2.6", "COUNTER": "3.2.7", "DECLINECOUNTER": "3.2.8",
    }[method]  # fmt: skip
    needs_start = method in ("PUBLISH", "REQUEST", "ADD", "COUNTER")
    if needs_start and invite.start is None:
        raise _fail(invite, section, "DTSTART is required")
    if method in ("PUBLISH", "REQUEST", "ADD", "COUNTER") and invite.summary is None:
        raise _fail(invite, section, "SUMMARY is required (it may be empty text)")
    if method == "PUBLISH" and count:
        raise _fail(invite, section, "ATTENDEE must not be present in a PUBLISH")
    if method in ("REQUEST", "ADD", "CANCEL", "COUNTER", "DECLINECOUNTER") and count == 0:
        raise _fail(invite, section, "at least one ATTENDEE is required")
    if method in ("REPLY", "REFRESH") and count != 1:
        raise _fail(invite, section, f"exactly one ATTENDEE (the sender) is required, not {count}")
    if method == "REPLY" and invite.attendees[0].partstat == "NEEDS-ACTION":
        raise _fail(
            invite, section, "the replying ATTENDEE needs a PARTSTAT other than NEEDS-ACTION"
        )
    if method in ("ADD", "CANCEL") and invite.sequence < 1:
        raise _fail(invite, section, "SEQUENCE must be greater than 0 (it was incremented)")
    if method == "CANCEL" and invite.status not in (None, "CANCELLED"):
        raise _fail(invite, section, "STATUS, when present, must be CANCELLED")
    if method == "REFRESH" and (invite.rrule or invite.rdates or invite.exdates):
        raise _fail(invite, section, "RRULE, RDATE and EXDATE must not be present")
    if method not in ("REQUEST", "PUBLISH", "ADD") and invite.alarms:
        raise _fail(invite, section, "VALARM is only sent with REQUEST, PUBLISH and ADD")
    if invite.recurrence_id is not None and (invite.rrule or invite.rdates or invite.exdates):
        raise _fail(invite, section, "a RECURRENCE-ID instance must not carry RRULE/RDATE/EXDATE")
