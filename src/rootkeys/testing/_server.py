"""The sandbox over loopback HTTP, for code in other processes (a CLI, a child to kill).

`serve` answers on ``http://127.0.0.1:<port>`` exactly as the sandbox's own sessions are
answered: each request goes through the same dispatcher (root user, faults, call log,
then moto). Point boto3 at it with ``AWS_ENDPOINT_URL`` (or ``endpoint_url=``).

One endpoint serves every service, as moto's own server does: the service is the one
the request is signed for (its SigV4 credential scope), and the operation is read the
way its protocol carries it:

- query (IAM, STS, EC2): ``Action=...`` in the form body (or the query string);
- JSON (CloudTrail, Organizations, CloudWatch): the ``X-Amz-Target`` header,
  ``<prefix>.<Operation>``;
- smithy RPC v2 CBOR (CloudWatch, in some botocore versions): the path,
  ``/service/<service>/operation/<Operation>``.

Whatever cannot be answered gets an AWS error in the request's own protocol (never an
HTML page), so a client reports an error code and a short message.

It also serves ``/_sandbox/health``: a stand-in for an application's health URL, for
demonstrating checks. ``GET`` answers its status (200 until told otherwise); ``PUT``
with a status code as the body (``503``) changes it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import botocore.exceptions
from botocore.awsrequest import AWSPreparedRequest
from botocore.compat import HTTPHeaders

from rootkeys.testing import _http
from rootkeys.testing._dispatch import Dispatcher

if TYPE_CHECKING:
    from boto3 import Session
    from botocore.awsrequest import AWSResponse

__all__ = ["HEALTH_PATH", "Health", "Server", "Serving", "operation_of", "serve"]

log = logging.getLogger("rootkeys.testing")

HEALTH_PATH = "/_sandbox/health"

_SCOPE = re.compile(r"Credential=[A-Z0-9]+/\d{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/")
_ACTION = re.compile(r"(?:^|&)Action=(?P<action>[A-Za-z0-9]+)(?:&|$)")
_RPC_V2 = re.compile(r"^/service/[^/]+/operation/(?P<action>[A-Za-z0-9]+)$")
_EVENT_SERVICE = {"monitoring": "cloudwatch"}
"""Signing name -> the service name in botocore's event names, where the two differ."""

_MOTO_UNKNOWN = (404, b"Not yet implemented")
"""moto's answer to a service it does not know: a bare text, not an AWS error."""

Dispatch = Callable[..., "AWSResponse | None"]


@dataclass
class Health:
    """The health endpoint's status: what ``GET /_sandbox/health`` answers."""

    status: int = 200


def operation_of(path: str, headers: HTTPHeaders, body: bytes) -> str | None:
    """The API operation a request calls, in whichever protocol it speaks."""
    target = headers.get("X-Amz-Target")
    if target:  # the JSON protocol: <prefix>.<Operation>
        return str(target).rsplit(".", 1)[-1] or None
    split = urlsplit(path)
    rpc = _RPC_V2.match(split.path)
    if rpc:  # smithy RPC v2 CBOR
        return rpc["action"]
    for text in (body.decode(errors="replace"), split.query):  # the query protocol
        action = _ACTION.search(text)
        if action:
            return action["action"]
    return None


def _aws_url(service: str, region: str, path: str) -> str:
    """The AWS endpoint moto recognises for a service (IAM is global).

    moto reads the region, and so the partition, from the signature when the URL names
    none (``iam.amazonaws.com``), so one host per service serves every partition.
    """
    host = "iam.amazonaws.com" if service == "iam" else f"{service}.{region}.amazonaws.com"
    return f"https://{host}{path}"


class _Handler(BaseHTTPRequestHandler):
    dispatch: Dispatch
    health: Health

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the sandbox keeps its own call log."""

    def _headers(self) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in self.headers.items():
            headers[name] = value
        return headers

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, content: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _refuse(
        self, request: AWSPreparedRequest, service: str, code: str, message: str, status: int
    ) -> None:
        answer = _http.error(request, service, code, message, status)
        self._send(answer.status_code, answer.content, dict(answer.headers.items()))

    # -- the health endpoint ---------------------------------------------------------------

    def do_GET(self) -> None:
        if urlsplit(self.path).path == HEALTH_PATH:
            status = type(self).health.status
            self._send(status, f"{status}\n".encode(), {"Content-Type": "text/plain"})
            return
        self._aws("GET")

    def do_PUT(self) -> None:
        if urlsplit(self.path).path != HEALTH_PATH:
            self._aws("PUT")
            return
        text = self._body().decode(errors="replace").strip()
        if not text.isdigit() or not 100 <= int(text) <= 599:
            message = f"the body must be an HTTP status code from 100 to 599, not {text[:20]!r}\n"
            self._send(400, message.encode(), {"Content-Type": "text/plain"})
            return
        type(self).health.status = int(text)
        self._send(200, f"{text}\n".encode(), {"Content-Type": "text/plain"})

    # -- AWS ---------------------------------------------------------------------------------

    def do_POST(self) -> None:
        self._aws("POST")

    def _aws(self, method: str) -> None:
        body = self._body()
        headers = self._headers()
        scope = _SCOPE.search(str(headers.get("Authorization", "")))
        operation = operation_of(self.path, headers, body)
        signing, region = (scope["service"], scope["region"]) if scope else ("iam", "us-east-1")
        service = _EVENT_SERVICE.get(signing, signing)
        request = AWSPreparedRequest(
            method=method,
            url=_aws_url(signing, region, self.path),
            headers=headers,
            body=body,
            stream_output=False,
        )
        if scope is None or operation is None:
            why = "not a SigV4-signed AWS API call (query, JSON or RPC v2 CBOR protocol)"
            self._refuse(request, service, "InvalidRequest", why, 400)
            return
        try:
            response = type(self).dispatch(
                request=request, event_name=f"before-send.{service}.{operation}", served=True
            )
        except botocore.exceptions.ConnectionClosedError:
            self.close_connection = True  # an injected dropped connection: answer nothing
            return
        except Exception as exc:  # a bug in the sandbox or moto: an AWS error, not a crash
            log.exception("the sandbox failed to answer %s:%s", service, operation)
            message = f"the sandbox failed on {service}:{operation}: {type(exc).__name__}"
            self._refuse(request, service, "InternalFailure", message, 500)
            return
        if response is None or (response.status_code, response.content) == _MOTO_UNKNOWN:
            message = f"the sandbox does not emulate {service}:{operation}"
            self._refuse(request, service, "NotImplemented", message, 501)
            return
        self._send(response.status_code, response.content, dict(response.headers.items()))


class Server:
    """A running loopback server: its URL and its health endpoint's state."""

    def __init__(self, url: str, health: Health) -> None:
        self.url = url
        self.health = health

    @property
    def health_url(self) -> str:
        """``GET`` answers `health`'s status; ``PUT`` with a status code changes it."""
        return self.url + HEALTH_PATH


@contextlib.contextmanager
def serve(dispatch: Dispatch, *, port: int = 0, health: Health | None = None) -> Iterator[Server]:
    """Serve ``dispatch`` on loopback ``port`` (0: a free one); yield the running server."""
    health = Health() if health is None else health
    handler = type(
        "SandboxHandler", (_Handler,), {"dispatch": staticmethod(dispatch), "health": health}
    )
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="rootkeys-sandbox", daemon=True)
    thread.start()
    try:
        host, bound = server.server_address[:2]
        yield Server(f"http://{host!s}:{bound}", health)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Serving(Dispatcher):
    """The sandbox's loopback endpoint (a base of `Sandbox`, which holds the state)."""

    _health: Health
    region: str

    if TYPE_CHECKING:

        def root_session(self, account_id: str, *, key_id: str | None = None) -> Session: ...

    @contextlib.contextmanager
    def serve(self, *, port: int = 0) -> Iterator[str]:
        """Answer on a loopback HTTP endpoint too; yield its URL.

        For code in another process (a command line, a child process to kill): set
        ``AWS_ENDPOINT_URL`` to the URL and sign with credentials from
        `root_credentials` (or any the sandbox made). Calls are answered exactly as for
        the sandbox's own sessions, in every protocol rootkeys uses (query, JSON, RPC v2
        CBOR), and appear in `calls` with ``served=True``. A client in this process given
        the URL (``endpoint_url=`` or ``AWS_ENDPOINT_URL``) goes over HTTP too.

        The endpoint also serves ``<url>/_sandbox/health``, a stand-in for an
        application's health URL: ``GET`` answers `set_health`'s status (200 until
        changed), and ``PUT`` with a status code as its body (``503``) changes it, for
        a `rootkeys.checks.HttpCheck` to watch.

        Args:
            port: the loopback port to listen on; 0 (the default) takes a free one.
        """
        with serve(self._dispatch, port=port, health=self._health) as server:
            self._served.add(_http.netloc(server.url))
            try:
                yield server.url
            finally:
                self._served.discard(_http.netloc(server.url))

    def set_health(self, status: int) -> None:
        """Make ``GET <url>/_sandbox/health`` answer ``status`` (e.g. 503 to fail a check)."""
        given: object = status
        if not isinstance(given, int) or not 100 <= given <= 599:
            raise ValueError(f"status must be an HTTP status code from 100 to 599: {status!r}")
        self._health.status = status

    def root_credentials(self, account_id: str, *, key_id: str | None = None) -> dict[str, str]:
        """``AWS_*`` environment variables that sign as the account's root user.

        For a child process talking to `serve`. Test credentials only: they hold the
        sandbox's own made-up secrets.
        """
        credentials = self.root_session(account_id, key_id=key_id).get_credentials()
        assert credentials is not None
        frozen = credentials.get_frozen_credentials()
        env = {
            "AWS_ACCESS_KEY_ID": str(frozen.access_key),
            "AWS_SECRET_ACCESS_KEY": str(frozen.secret_key),
            "AWS_DEFAULT_REGION": self.region,
        }
        if frozen.token:
            env["AWS_SESSION_TOKEN"] = frozen.token
        return env
