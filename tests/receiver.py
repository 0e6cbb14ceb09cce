"""A loopback HTTP server standing in for an outside service (a helpdesk): it records every request
and can be told to fail the next N requests, or to answer a given path with a given JSON body."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List


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


class Receiver:
    def __init__(self) -> None:
        self.calls: List[Call] = []
        self.fail_next = 0
        self.fail_path: Dict[str, int] = {}  # path suffix -> how many more requests to it fail
        self.answer: Callable[[str, Any], Any] = lambda path, body: {"ok": True}  # a body, or (status, body)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.do_POST()

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= 1 if failing else 0
                    for suffix, count in receiver.fail_path.items():
                        if self.path.endswith(suffix) and count > 0 and not failing:
                            receiver.fail_path[suffix], failing = count - 1, True
                status, payload = (503, {"error": "down"}) if failing else (200, receiver.answer(self.path, _json(body)))
                if isinstance(payload, tuple):  # the answer chose its own status
                    status, payload = payload
                receiver.calls.append(Call(self.command, self.path, dict(self.headers), body, status))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self, path: str = "") -> List[Call]:
        return [call for call in list(self.calls) if call.status == 200 and call.path.startswith(path)]

    def stop(self) -> None:
        self.server.shutdown()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None
