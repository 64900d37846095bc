"""GET /questions/{id}/answers: paging tokens and response shape. Pure: no boto3.

A page token is the DynamoDB start key of the next page (the last answerer's user id) and
the time it stops being accepted, encrypted with the stack's page-token KMS key under an
encryption context naming the question (:func:`encryption_context`), and written as unpadded
base64url. The client learns nothing from it, it decrypts for no other question (KMS refuses
a ciphertext whose context differs from the one it was made with), and it is refused
``PAGE_TOKEN_TTL_SECONDS`` after it was issued, so a leaked or stored token is not a
standing cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Mapping

from ..shared.http import BadRequest
from ..shared.views import number

PAGE_TOKEN_PURPOSE = "answers-page"
# A KMS ciphertext blob is at most 6144 bytes: 8192 base64 characters. Longer is never ours.
MAX_TOKEN_LENGTH = 8192
MAX_USER_ID_LENGTH = 1024
# Long enough to page through a question's answers, short enough not to be kept for later.
PAGE_TOKEN_TTL_SECONDS = 3600
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class InvalidPageToken(BadRequest):
    """Anything but a page token this route issued for this question."""

    def __init__(self) -> None:
        super().__init__("Invalid page token")


class ExpiredPageToken(BadRequest):
    """A page token this route issued, older than ``PAGE_TOKEN_TTL_SECONDS``."""

    def __init__(self) -> None:
        super().__init__("Expired page token: start again from the first page")


def encryption_context(question_id: str) -> dict[str, str]:
    """What a page token is bound to; the IAM grant on the key requires the same purpose."""
    return {"questionId": question_id, "purpose": PAGE_TOKEN_PURPOSE}


def token_ciphertext(query: Mapping[str, str] | None) -> bytes | None:
    """The ciphertext inside ``nextToken``, None on the first page; InvalidPageToken for
    anything that cannot be one (checked before KMS is asked)."""
    token = (query or {}).get("nextToken")
    if not token:
        return None
    if len(token) > MAX_TOKEN_LENGTH or not _BASE64URL.fullmatch(token) or len(token) % 4 == 1:
        raise InvalidPageToken()
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except binascii.Error:
        raise InvalidPageToken() from None


def start_key(question_id: str, plaintext: bytes, *, now: float) -> dict[str, str]:
    """ExclusiveStartKey from a decrypted token; ExpiredPageToken once its time is past,
    InvalidPageToken for any other plaintext."""
    try:
        decoded = json.loads(plaintext)
    except (UnicodeDecodeError, ValueError):
        raise InvalidPageToken() from None
    if not isinstance(decoded, dict) or set(decoded) != {"u", "e"}:
        raise InvalidPageToken()
    user_id, expires = decoded["u"], decoded["e"]
    if not isinstance(user_id, str) or not 0 < len(user_id) <= MAX_USER_ID_LENGTH:
        raise InvalidPageToken()
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise InvalidPageToken()
    if now >= expires:
        raise ExpiredPageToken()
    return {"questionId": question_id, "userId": user_id}


def token_plaintext(question_id: str, last_evaluated_key: Mapping[str, Any], *, now: float) -> bytes:
    """What the next page's token encrypts: the user id the next page starts after, and when
    the token stops being accepted (epoch seconds)."""
    if last_evaluated_key.get("questionId") != question_id:
        raise ValueError(f"start key {last_evaluated_key!r} is not of question {question_id}")
    expires = int(now) + PAGE_TOKEN_TTL_SECONDS
    return json.dumps({"u": last_evaluated_key["userId"], "e": expires}, separators=(",", ":")).encode("utf-8")


def token_of(ciphertext: bytes) -> str:
    return base64.urlsafe_b64encode(ciphertext).decode("ascii").rstrip("=")


def answer_view(item: Mapping[str, Any], caller: str) -> dict[str, Any]:
    """One answer; other users' ids are not disclosed, the caller's own is flagged ``mine``."""
    view: dict[str, Any] = {"type": item["type"], "answeredAt": item.get("answeredAt"),
                            "mine": item["userId"] == caller}
    if item["type"] == "star":
        view["rating"] = int(item["rating"])
    else:
        view.update(lat=number(item["lat"]), lng=number(item["lng"]), cell=item.get("cell"))
    return view
