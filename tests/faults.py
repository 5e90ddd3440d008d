"""Answers injected in front of a real endpoint (moto), for faults moto never produces.

botocore's ``before-send`` event lets a handler return a response instead of sending the
request; :class:`FaultInjector` answers the first ``count`` requests that way and lets the
rest reach the server, so the retry paths run over the same client and wire format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


def answer(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> AWSResponse:
    """Any HTTP answer, made up locally instead of coming from the network."""
    fields = HTTPHeaders.from_dict(headers or {})
    return AWSResponse("https://aws.invalid", status, fields, _Raw(body))


def json_answer(payload: object, status: int = 200) -> AWSResponse:
    """A JSON-protocol answer with ``payload`` as its body (a success unless ``status`` says)."""
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    return answer(status, headers, json.dumps(payload).encode())


def json_error(status: int, code: str, message: str) -> AWSResponse:
    """An error as JSON-protocol services (SES v2, KMS) send it."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
    return answer(status, headers, json.dumps({"__type": code, "message": message}).encode())


def xml_error(status: int, code: str, message: str) -> AWSResponse:
    """An error as query-protocol services (SES v1) send it."""
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    )
    return answer(status, {"Content-Type": "text/xml"}, body.encode())


class FaultInjector:
    """Answers the first ``count`` requests itself, so they never reach the server."""

    def __init__(self, answer: Callable[[], AWSResponse | Exception], count: int) -> None:
        self.answer, self.count, self.calls = answer, count, 0

    def __call__(self, **kwargs: Any) -> AWSResponse | None:
        self.calls += 1
        if self.calls > self.count:
            return None
        outcome = self.answer()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
