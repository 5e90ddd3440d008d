"""Calendar invitations (RFC 5545, RFC 5546 iTIP, RFC 6047 iMIP) that clients show as meetings.

``Invite`` is immutable; ``update``, ``cancel``, ``reply`` and ``occurrence`` derive the next
message of the life cycle with the iTIP rules applied. ``to_ics`` validates the rules of the
method and writes VTIMEZONEs Outlook understands; ``to_message`` builds the e-mail.
"""

from __future__ import annotations

from mimeseal.invite.ics import from_ics, from_message, to_ics
from mimeseal.invite.itip import validate
from mimeseal.invite.message import to_message
from mimeseal.invite.model import METHODS, Alarm, Attendee, Invite, Method, Person

__all__ = [
    "METHODS",
    "Alarm",
    "Attendee",
    "Invite",
    "Method",
    "Person",
    "from_ics",
    "from_message",
    "to_ics",
    "to_message",
    "validate",
]
