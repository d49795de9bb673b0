"""Log filters: secrets that travel in a URL path never reach the logs.

An invitation link carries its single-use secret in the path (``/invitation/<secret>/``); Django's
request log writes the path of every 4xx ("Not Found: /invitation/..."). ``SecretPathFilter`` masks
that segment in a record's message and arguments before any handler sees it.
"""

from __future__ import annotations

import logging
import re

SECRET_PATHS = re.compile(r"(/invitation/)(?!set-password/)[^/\s?]+")
MASK = r"\1[secret]"


class SecretPathFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = SECRET_PATHS.sub(MASK, record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(SECRET_PATHS.sub(MASK, a) if isinstance(a, str) else a for a in record.args)
        return True
