"""mimeseal: compliance-grade outbound email.

Stages pass ``bytes``: compose or invite → S/MIME sign → DKIM sign → check → send. Each stage
copies the signed region of its input byte for byte. The library logs to the ``mimeseal`` logger
and never prints.
"""

from __future__ import annotations

import logging

from mimeseal.errors import MimesealError

__version__ = "0.1.0"

logger = logging.getLogger("mimeseal")
logger.addHandler(logging.NullHandler())

__all__ = ["MimesealError", "__version__", "logger"]
