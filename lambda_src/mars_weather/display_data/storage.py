"""The private bucket (converted photos and the cached result) and the NASA API key secret.

Clients are passed in; nothing here creates one, so importing this module makes no AWS
call. S3 layout (both prefixes are what the function's role needs):

* ``images/<sha256 of the BMP>.bmp``  converted photos, content-addressed (immutable)
* ``cache/v1/<image source>--<weather source>.json``  the composed result and its expiry

Failures to read the cache count as "no cache"; failures to write it are logged and the
request is still answered. Only storing a new photo raises (:class:`StorageError`), and
the caller turns that into a missing photo.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any, Callable

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger(child=True)

IMAGE_PREFIX = "images/"
CACHE_PREFIX = "cache/v1/"
DEMO_KEY = "DEMO_KEY"
# JSON fields a secret may keep the key under; the first non-empty one wins.
SECRET_KEY_FIELDS = ("api_key", "nasa_api_key", "NASA_API_KEY", "apiKey")
SECRET_CACHE_SECONDS = 300.0


class StorageError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def cache_key(name: str) -> str:
    return f"{CACHE_PREFIX}{name}.json"


def image_key(bmp: bytes) -> str:
    return f"{IMAGE_PREFIX}{hashlib.sha256(bmp).hexdigest()}.bmp"


class Store:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def read_record(self, name: str) -> dict[str, Any] | None:
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=cache_key(name))
            record = json.loads(response["Body"].read())
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            # Without s3:ListBucket a missing key answers AccessDenied instead of NoSuchKey.
            if code not in ("NoSuchKey", "404", "AccessDenied", "403"):
                logger.warning("cache read failed", extra={"error_code": code})
            return None
        except (BotoCoreError, ValueError, KeyError) as error:
            logger.warning("cache read failed", extra={"error": type(error).__name__})
            return None
        return record if isinstance(record, dict) else None

    def write_record(self, name: str, record: dict[str, Any]) -> None:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=cache_key(name), Body=json.dumps(record).encode(),
                                ContentType="application/json")
        except (BotoCoreError, ClientError) as error:
            logger.warning("cache write failed; the result is still served", extra={"error": str(error)})

    def put_image(self, bmp: bytes, content_type: str) -> str:
        key = image_key(bmp)
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=bmp, ContentType=content_type,
                                CacheControl="private, max-age=604800, immutable")
        except (BotoCoreError, ClientError) as error:
            logger.warning("storing the converted photo failed", extra={"error": str(error)})
            raise StorageError("the converted photo could not be stored") from None
        return key

    def image_exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError):
            return False
        return True

    def presign(self, key: str, expires_in: int) -> str:
        try:
            return self._s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                   ExpiresIn=expires_in)
        except (BotoCoreError, ClientError) as error:
            logger.warning("signing the photo URL failed", extra={"error": str(error)})
            raise StorageError("the photo URL could not be signed") from None


def api_key_from_secret_string(secret_string: str | None) -> str:
    """The NASA API key a secret holds, or ``DEMO_KEY`` while it holds none.

    Accepted: ``{"api_key": "<key>"}`` (other fields ignored) or the bare key.
    """
    if not secret_string or not secret_string.strip():
        return DEMO_KEY
    value = secret_string.strip()
    if value.startswith("{"):
        try:
            fields = json.loads(value)
        except ValueError:
            return DEMO_KEY
        if isinstance(fields, dict):
            for name in SECRET_KEY_FIELDS:
                found = fields.get(name)
                if isinstance(found, str) and found.strip():
                    return found.strip()
        return DEMO_KEY
    if any(character.isspace() for character in value) or len(value) > 256:
        return DEMO_KEY
    return value


class SecretApiKey:
    """Reads the NASA API key from Secrets Manager on first use, then keeps it for a while.

    Any failure (no secret configured, access denied, timeout) falls back to ``DEMO_KEY``
    with a warning: the key only raises NASA's rate limit, it never decides whether the
    endpoint answers.
    """

    def __init__(self, client_factory: Callable[[], Any], secret_id: str | None, *,
                 max_age: float = SECRET_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._client_factory = client_factory
        self._secret_id = secret_id
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._value: str | None = None
        self._read_at = 0.0

    def __call__(self) -> str:
        with self._lock:
            if self._value is not None and self._clock() - self._read_at < self._max_age:
                return self._value
            self._value = self._read()
            self._read_at = self._clock()
            return self._value

    def _read(self) -> str:
        if not self._secret_id:
            return DEMO_KEY
        try:
            response = self._client_factory().get_secret_value(SecretId=self._secret_id)
        except (BotoCoreError, ClientError) as error:
            logger.warning("reading the NASA API key failed; using DEMO_KEY", extra={"error": str(error)})
            return DEMO_KEY
        key = api_key_from_secret_string(response.get("SecretString"))
        if key == DEMO_KEY:
            logger.info("the NASA API key secret holds no key yet; using DEMO_KEY")
        return key
