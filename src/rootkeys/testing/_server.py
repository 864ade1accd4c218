"""The sandbox over loopback HTTP, for code in other processes (a CLI, a child to kill).

`serve` answers on ``http://127.0.0.1:<port>`` exactly as the sandbox's own sessions are
answered: the request goes through the same dispatcher (root user, faults, call log,
then moto). Point boto3 at it with ``AWS_ENDPOINT_URL`` (or ``endpoint_url=``).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import botocore.exceptions
from botocore.awsrequest import AWSPreparedRequest
from botocore.compat import HTTPHeaders

if TYPE_CHECKING:
    from botocore.awsrequest import AWSResponse

__all__ = ["serve"]

_SCOPE = re.compile(r"Credential=[A-Z0-9]+/\d{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/")
_ACTION = re.compile(r"(?:^|&)Action=(?P<action>[A-Za-z]+)")

Dispatch = Callable[..., "AWSResponse | None"]


def _aws_url(service: str, region: str, path: str) -> str:
    """The AWS endpoint moto recognises for a service (IAM is global)."""
    host = "iam.amazonaws.com" if service == "iam" else f"{service}.{region}.amazonaws.com"
    return f"https://{host}{path}"


class _Handler(BaseHTTPRequestHandler):
    dispatch: Dispatch

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the sandbox keeps its own call log."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scope = _SCOPE.search(self.headers.get("Authorization", ""))
        action = _ACTION.search(body.decode(errors="replace"))
        if scope is None or action is None:
            self.send_error(400, "not a SigV4-signed query-protocol request")
            return
        headers = HTTPHeaders()
        for name, value in self.headers.items():
            headers[name] = value
        request = AWSPreparedRequest(
            method="POST",
            url=_aws_url(scope["service"], scope["region"], self.path),
            headers=headers,
            body=body,
            stream_output=False,
        )
        try:
            response = type(self).dispatch(
                request=request, event_name=f"before-send.{scope['service']}.{action['action']}"
            )
        except botocore.exceptions.ConnectionClosedError:
            self.close_connection = True  # an injected dropped connection: answer nothing
            return
        if response is None:
            self.send_error(501, "the sandbox does not emulate this call")
            return
        content = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


@contextlib.contextmanager
def serve(dispatch: Dispatch) -> Iterator[str]:
    """Serve ``dispatch`` on a free loopback port; yield the endpoint URL."""
    handler = type("SandboxHandler", (_Handler,), {"dispatch": staticmethod(dispatch)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="rootkeys-sandbox", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
