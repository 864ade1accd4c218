"""Reading AWS query-protocol requests and writing their XML answers, for the sandbox.

IAM and STS speak the query protocol: a form-encoded ``Action=...`` body in, XML out.
Only what the sandbox answers itself is here; everything else goes to moto.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from io import BytesIO
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSResponse

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from botocore.awsrequest import AWSPreparedRequest

__all__ = [
    "answer",
    "error",
    "json_answer",
    "members",
    "members_of",
    "netloc",
    "params_of",
    "region_of",
    "respond",
    "respond_bytes",
    "signing_key_of",
    "timestamp",
]

_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")


class _Raw(BytesIO):
    """The raw body botocore reads an `AWSResponse` from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def signing_key_of(request: AWSPreparedRequest) -> str | None:
    """The access key id in a SigV4 ``Authorization`` header (not a secret)."""
    header: object = request.headers.get("Authorization")
    text = header.decode() if isinstance(header, bytes) else str(header or "")
    match = _CREDENTIAL.search(text)
    return match.group(1) if match else None


_SCOPE_REGION = re.compile(r"Credential=[A-Z0-9]+/\d{8}/(?P<region>[a-z0-9-]+)/")


def region_of(request: AWSPreparedRequest) -> str | None:
    """The region a SigV4 request was signed for."""
    header: object = request.headers.get("Authorization")
    text = header.decode() if isinstance(header, bytes) else str(header or "")
    match = _SCOPE_REGION.search(text)
    return match["region"] if match else None


def netloc(url: str) -> str:
    """A URL's ``host:port``."""
    return urlsplit(url).netloc


def params_of(request: AWSPreparedRequest) -> dict[str, str]:
    """A request's top-level string parameters.

    Query-protocol form fields (first value of each), or a JSON-protocol body's string
    members (Organizations); for S3 (REST), the bucket and key the URL names.
    """
    if ".s3." in request.url or "://s3." in request.url:
        return _s3_params(request.url)
    body = request.body
    try:
        if isinstance(body, bytes | bytearray):
            text = bytes(body).decode()
        elif isinstance(body, str):
            text = body
        else:  # no body, or a stream: not a call the sandbox answers
            return {}
    except UnicodeDecodeError:  # a binary protocol (CBOR): nothing the sandbox reads
        return {}
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            return {}
        found = {k: v for k, v in decoded.items() if isinstance(v, str)}
        tables = {  # a DynamoDB transaction names its table in each item
            str(part.get("TableName"))
            for item in decoded.get("TransactItems", [])
            for part in item.values()
            if isinstance(part, dict) and "TableName" in part
        }
        if tables:
            found["TableName"] = ",".join(sorted(tables))
        return found
    return {name: values[0] for name, values in parse_qs(text).items()}


def _s3_params(url: str) -> dict[str, str]:
    """``Bucket`` and ``Key`` of an S3 URL, virtual-hosted or path-style."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    host = parts.hostname or ""
    if host.startswith("s3.") or host.startswith("s3-"):  # path-style: /bucket/key
        bucket, _, key = path.partition("/")
    else:  # virtual-hosted: bucket.s3.<region>.amazonaws.com/key
        bucket, key = host.split(".s3.", 1)[0], path
    found = {"Bucket": bucket} if bucket else {}
    if key:
        found["Key"] = key
    return found


def timestamp(at: datetime) -> str:
    """ISO 8601 in UTC, as IAM writes dates."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def respond_bytes(
    request: AWSPreparedRequest, status: int, body: bytes, headers: dict[str, str]
) -> AWSResponse:
    """An answer with a binary ``body`` and the given headers."""
    return AWSResponse(request.url, status, headers, _Raw(body))  # type: ignore[arg-type]


def respond(request: AWSPreparedRequest, status: int, body: str) -> AWSResponse:
    """An answer with ``body`` (XML) and ``status``."""
    headers = {"Content-Type": "text/xml", "x-amzn-RequestId": "sandbox"}
    return AWSResponse(request.url, status, headers, _Raw(body.encode()))  # type: ignore[arg-type]


def answer(
    request: AWSPreparedRequest, service: str, operation: str, result: str | None = None
) -> AWSResponse:
    """A successful answer; ``result`` is the inner XML of ``<{operation}Result>``."""
    inner = "" if result is None else f"<{operation}Result>{result}</{operation}Result>"
    body = (
        f'<{operation}Response xmlns="{_NAMESPACES[service]}">{inner}'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    return respond(request, 200, body)


def json_answer(request: AWSPreparedRequest, body: Mapping[str, Any]) -> AWSResponse:
    """A successful JSON-protocol answer (Organizations)."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "sandbox"}
    return respond_bytes(request, 200, json.dumps(body).encode(), headers)


def error(
    request: AWSPreparedRequest, service: str, code: str, message: str, status: int
) -> AWSResponse:
    """An error answer, in the request's protocol (JSON, CBOR, or XML for IAM/STS)."""
    if "smithy-protocol" in request.headers:  # smithy RPC v2 CBOR
        payload = _cbor_map({"__type": code, "message": message})
        headers = {
            "Content-Type": "application/cbor",
            "smithy-protocol": "rpc-v2-cbor",
            "x-amzn-RequestId": "sandbox",
        }
        return respond_bytes(request, status, payload, headers)
    if "X-Amz-Target" in request.headers:  # the JSON protocol
        payload = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "sandbox"}
        return respond_bytes(request, status, payload, headers)
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{_NAMESPACES.get(service, _NAMESPACES["iam"])}"><Error>'
        f"<Type>{kind}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return respond(request, status, body)


def _cbor_map(fields: Mapping[str, str]) -> bytes:
    """A CBOR map of text strings (RFC 8949): what an RPC v2 error body needs."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 0x100:
            return bytes([major << 5 | 24, length])
        if length < 0x10000:
            return bytes([major << 5 | 25]) + length.to_bytes(2, "big")
        return bytes([major << 5 | 26]) + length.to_bytes(4, "big")

    def text(value: str) -> bytes:
        encoded = value.encode()
        return head(3, len(encoded)) + encoded

    return head(5, len(fields)) + b"".join(text(k) + text(v) for k, v in fields.items())


def members_of(values: list[str]) -> str:
    """A list of strings as query-protocol ``<member>`` elements."""
    return "".join(f"<member>{escape(v)}</member>" for v in values)


def members(items: list[Mapping[str, str]]) -> str:
    """A list of structures as query-protocol ``<member>`` elements."""
    return "".join(
        "<member>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items()) + "</member>"
        for item in items
    )
