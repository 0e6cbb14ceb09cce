"""The action server as scripts/run.sh starts it: rasa-sdk's own app with this package's actions, bound to
HOST (127.0.0.1 unless told), answering only the Rasa server: every call but /health must carry
`Authorization: Bearer <ACTION_SERVER_TOKEN>` (compared in constant time), which endpoints.yml makes
Rasa send. A forged tracker posted by anyone else is refused before any action runs.

    python -m actions.server --port 5055
"""

from __future__ import annotations

import argparse
import hmac
import logging
from typing import Optional

from rasa_sdk.endpoint import create_app
from rasa_sdk.utils import number_of_sanic_workers
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from support.settings import check_configuration, environment

logger = logging.getLogger(__name__)


def authorized(header: Optional[str], token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def build_app(token: str) -> Sanic:
    app = create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def only_the_rasa_server(request: Request) -> Optional[HTTPResponse]:
        if request.path == "/health" or authorized(request.headers.get("authorization"), token):
            return None
        logger.warning("action server: refused a call to %s without the Rasa server's token", request.path)
        return response.json({"error": "unauthorized"}, status=401)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    check_configuration()
    env = environment()
    if not env.action_server_token:
        raise SystemExit("ACTION_SERVER_TOKEN is not set (scripts/run.sh sets one for development)")
    # ACTION_SERVER_SANIC_WORKERS (rasa-sdk's setting, default 1): processes on one port; actions keep no state
    workers = number_of_sanic_workers()
    build_app(env.action_server_token).run(host=env.host, port=args.port, workers=workers, access_log=False)


if __name__ == "__main__":
    main()
