"""The RPC port's application: JSON-RPC on `POST /` (authenticated), REST on `GET /rest/…`.

As in Bitcoin Core, JSON-RPC needs credentials (cookie or rpcuser/rpcpassword) and the REST
interface is read-only and unauthenticated (Core's `-rest`), so a block explorer page can read
it directly. Core also accepts JSON-RPC on `/wallet/<name>`; the sandbox node has no wallets
inside it, so only `/` is served.
"""

from __future__ import annotations

from .context import NodeContext
from .rest import RestAPI
from .rpc import blockchain, control, mining, net, rawtransaction
from .rpc.dispatch import Dispatcher
from .server import Request, Response, error_response


def build_dispatcher(node: NodeContext) -> Dispatcher:
    """Every RPC method the node serves: each method module's `COMMANDS`, bound to `node`."""
    dispatcher = Dispatcher()
    for module in (blockchain, rawtransaction, mining, net, control):
        dispatcher.add(module.COMMANDS, node)
    dispatcher.register("help", dispatcher.help, list(control.HELP_PARAMS), control.HELP_TEXT)
    return dispatcher


class RPCApp:
    """Routes requests on the RPC port."""

    def __init__(self, node: NodeContext) -> None:
        self.node = node
        self.dispatcher = build_dispatcher(node)
        self.rest = RestAPI(node)

    def handle(self, request: Request) -> Response:
        """JSON-RPC for `POST /`, REST for `/rest/`, 404 otherwise."""
        path = request.path.split("?", 1)[0]
        if path.startswith("/rest/"):
            return self.rest.handle(request)
        if path != "/":
            return error_response(404, "not found: JSON-RPC is served on / and REST on /rest/")
        if request.method != "POST":
            return error_response(405, "JSON-RPC server handles only POST requests")
        if not request.authorized:
            return Response(401, b"", content_type="text/plain")  # as Core: no JSON body
        status, body = self.dispatcher.handle(request.body)
        return Response(status, body or b"")
