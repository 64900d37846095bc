"""GET /questions/{id}/answers: the answers to a question, a page at a time.

404 for an unknown question; the page token is opaque and bound to the question (logic.py):
KMS encrypts and decrypts it with the stack's page-token key (PAGE_TOKEN_KEY_ARN).
"""

from __future__ import annotations

import os
import time
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ..shared import aws
from ..shared.handlers import count, http_handler
from ..shared.http import NotFound, json_response, question_id_of, require_caller
from .logic import (
    InvalidPageToken,
    answer_view,
    encryption_context,
    start_key,
    token_ciphertext,
    token_of,
    token_plaintext,
)

# Bounded like every client of the app (shared/aws.py).
kms = aws.client("kms")
# What KMS answers for a blob that is not a ciphertext of this key for this context.
_NOT_OUR_TOKEN = ("InvalidCiphertextException", "IncorrectKeyException")


def _decrypt(ciphertext: bytes, question_id: str) -> bytes:
    try:
        return kms.decrypt(CiphertextBlob=ciphertext, KeyId=os.environ["PAGE_TOKEN_KEY_ARN"],
                           EncryptionContext=encryption_context(question_id))["Plaintext"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in _NOT_OUR_TOKEN:
            raise
        count("InvalidPageTokens")
        raise InvalidPageToken() from None


def _encrypt(plaintext: bytes, question_id: str) -> bytes:
    return kms.encrypt(KeyId=os.environ["PAGE_TOKEN_KEY_ARN"], Plaintext=plaintext,
                       EncryptionContext=encryption_context(question_id))["CiphertextBlob"]


@http_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    caller = require_caller(event)
    question_id = question_id_of(event.get("pathParameters"), "id")
    ciphertext = token_ciphertext(event.get("queryStringParameters"))
    if aws.question(question_id) is None:
        raise NotFound(f"question {question_id} not found")

    request: dict[str, Any] = {"KeyConditionExpression": Key("questionId").eq(question_id),
                               "Limit": int(os.environ.get("ANSWERS_PAGE_SIZE", "500"))}
    if ciphertext is not None:
        request["ExclusiveStartKey"] = start_key(question_id, _decrypt(ciphertext, question_id), now=time.time())
    page = aws.table(os.environ["ANSWERS_TABLE_NAME"]).query(**request)
    body: dict[str, Any] = {"questionId": question_id,
                            "answers": [answer_view(item, caller) for item in page.get("Items", [])]}
    if page.get("LastEvaluatedKey"):
        plaintext = token_plaintext(question_id, page["LastEvaluatedKey"], now=time.time())
        body["nextToken"] = token_of(_encrypt(plaintext, question_id))
    count("AnswerPagesServed")
    return json_response(200, body)
