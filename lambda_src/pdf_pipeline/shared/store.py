"""Objects in S3, as the workers need them: head, bounded read, streamed download and upload,
put, and one listing page. ``ObjectStore`` is what the logic modules depend on; ``S3Store``
implements it on a boto3 S3 client (tests give it moto's).

Errors: a missing object or version is ``ObjectMissing``; an object larger than a read allows
is ``ObjectTooLarge``; anything else S3 says (throttling, 5xx after botocore's own bounded
retries) propagates, so the queue message fails and SQS redelivers it later.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})


class ObjectMissing(LookupError):
    """The object (or the version asked for) does not exist."""


class ObjectTooLarge(ValueError):
    """The object is larger than the read that asked for it allows."""


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str                    # without the quotes S3 puts around it
    version_id: str | None       # None when the bucket is not versioned


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    etag: str


@dataclass(frozen=True)
class ListedPage:
    objects: tuple[ListedObject, ...]
    next_token: str | None       # None on the last page


class ObjectStore(Protocol):
    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead: ...
    def read(self, bucket: str, key: str, version_id: str | None = None, *, max_bytes: int) -> bytes: ...
    def download(self, bucket: str, key: str, path: Path, version_id: str | None = None, *,
                 on_progress: Callable[[int], None] | None = None) -> None: ...
    def put(self, bucket: str, key: str, body: bytes, *, content_type: str,
            metadata: Mapping[str, str] | None = None) -> None: ...
    def upload(self, bucket: str, key: str, path: Path, *, content_type: str,
               metadata: Mapping[str, str] | None = None) -> None: ...
    def list_page(self, bucket: str, prefix: str, token: str | None, *, max_keys: int) -> ListedPage: ...


def unquote_etag(etag: str) -> str:
    return etag.strip().strip('"')


def _version(version_id: str | None) -> dict[str, str]:
    # "null" is what S3 reports for an object written before versioning was enabled; asking
    # for VersionId=null is valid, so it is passed through like any other version.
    return {"VersionId": version_id} if version_id else {}


def _is_missing(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in _MISSING_CODES


class S3Store:
    def __init__(self, client: Any) -> None:
        self._s3 = client

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead:
        try:
            answer = self._s3.head_object(Bucket=bucket, Key=key, **_version(version_id))
        except Exception as error:
            if _is_missing(error):
                raise ObjectMissing(f"s3://{bucket}/{key} does not exist") from error
            raise
        return ObjectHead(size=int(answer["ContentLength"]), etag=unquote_etag(answer.get("ETag", "")),
                          version_id=answer.get("VersionId"))

    def read(self, bucket: str, key: str, version_id: str | None = None, *, max_bytes: int) -> bytes:
        try:
            answer = self._s3.get_object(Bucket=bucket, Key=key, **_version(version_id))
        except Exception as error:
            if _is_missing(error):
                raise ObjectMissing(f"s3://{bucket}/{key} does not exist") from error
            raise
        body = answer["Body"]
        try:
            if int(answer.get("ContentLength", 0)) > max_bytes:
                raise ObjectTooLarge(f"s3://{bucket}/{key} is {answer['ContentLength']} bytes, "
                                     f"more than the {max_bytes} this step reads")
            data = body.read(max_bytes + 1)
        finally:
            body.close()
        if len(data) > max_bytes:
            raise ObjectTooLarge(f"s3://{bucket}/{key} is more than the {max_bytes} bytes this step reads")
        return data

    def download(self, bucket: str, key: str, path: Path, version_id: str | None = None, *,
                 on_progress: Callable[[int], None] | None = None) -> None:
        try:
            self._s3.download_file(bucket, key, str(path), ExtraArgs=_version(version_id) or None,
                                   Callback=on_progress)
        except Exception as error:
            if _is_missing(error):
                raise ObjectMissing(f"s3://{bucket}/{key} does not exist") from error
            raise

    def put(self, bucket: str, key: str, body: bytes, *, content_type: str,
            metadata: Mapping[str, str] | None = None) -> None:
        self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                            Metadata=dict(metadata or {}))

    def upload(self, bucket: str, key: str, path: Path, *, content_type: str,
               metadata: Mapping[str, str] | None = None) -> None:
        self._s3.upload_file(str(path), bucket, key,
                             ExtraArgs={"ContentType": content_type, "Metadata": dict(metadata or {})})

    def list_page(self, bucket: str, prefix: str, token: str | None, *, max_keys: int) -> ListedPage:
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys}
        if token:
            request["ContinuationToken"] = token
        answer = self._s3.list_objects_v2(**request)
        objects = tuple(ListedObject(key=item["Key"], size=int(item["Size"]), etag=unquote_etag(item.get("ETag", "")))
                        for item in answer.get("Contents", []))
        return ListedPage(objects=objects,
                          next_token=answer.get("NextContinuationToken") if answer.get("IsTruncated") else None)
