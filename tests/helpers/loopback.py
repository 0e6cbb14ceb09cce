"""Loopback HTTP stand-ins for outside services, in the test process.

`LoopbackServer` is the one server: it records every request as the subclass describes it, answers
what the subclass decides, and lets a test wait for calls instead of sleeping. `Receiver` stands in
for a helpdesk (it can fail the next N requests); tests/helpers/platform_standin.py for the messengers.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Generic, List, Tuple, TypeVar

CallT = TypeVar("CallT")


class LoopbackServer(Generic[CallT]):
    """A threaded HTTP server on 127.0.0.1 (a free port); a subclass implements `respond`."""

    def __init__(self) -> None:
        self.calls: List[CallT] = []
        self._changed = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                server._handle(self)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def respond(self, request: BaseHTTPRequestHandler, body: bytes) -> Tuple[CallT, int, Any]:
        """The call to record, the status and the JSON answer (called under the server's lock)."""
        raise NotImplementedError

    def delay(self, call: CallT) -> float:
        """Seconds to wait before answering this call (a slow service), outside the lock."""
        return 0.0

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        with self._changed:
            call, status, payload = self.respond(request, body)
            self.calls.append(call)
            self._changed.notify_all()
        time.sleep(self.delay(call))
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def calls_for(self, predicate: Callable[[CallT], bool]) -> List[CallT]:
        with self._changed:
            return [call for call in self.calls if predicate(call)]

    def wait_for(self, predicate: Callable[[CallT], bool], count: int = 1, timeout: float = 60) -> List[CallT]:
        """The matching calls once there are `count` of them, or what there is when `timeout` runs out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len([c for c in self.calls if predicate(c)]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return [call for call in self.calls if predicate(call)]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LoopbackServer[CallT]:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass
class Call:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Receiver(LoopbackServer[Call]):
    """A helpdesk: records every request; fails the next `fail_next` ones (503), or those to a path suffix."""

    def __init__(self) -> None:
        self.fail_next = 0
        self.fail_path: Dict[str, int] = {}  # path suffix -> how many more requests to it fail
        self.answer: Callable[[str, Any], Any] = lambda path, body: {"ok": True}  # a body, or (status, body)
        super().__init__()

    def respond(self, request: BaseHTTPRequestHandler, body: bytes) -> Tuple[Call, int, Any]:
        failing = self.fail_next > 0
        self.fail_next -= 1 if failing else 0
        for suffix, count in self.fail_path.items():
            if request.path.endswith(suffix) and count > 0 and not failing:
                self.fail_path[suffix], failing = count - 1, True
        status, payload = (503, {"error": "down"}) if failing else (200, self.answer(request.path, _json(body)))
        if isinstance(payload, tuple):  # the answer chose its own status
            status, payload = payload
        return Call(request.command, request.path, dict(request.headers), body, status), status, payload

    def accepted(self, path: str = "") -> List[Call]:
        return self.calls_for(lambda call: call.status == 200 and call.path.startswith(path))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None
