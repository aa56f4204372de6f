"""moto server answering one request at a time.

moto's TransactWriteItems checks every condition and then applies the writes without a lock, so
two transactions racing in moto's threaded server can both win. DynamoDB isolates transactions
(serializable; conflicting ones are cancelled). Serving requests one at a time gives the AWS
adapter's conformance tests DynamoDB's isolation, so they test our conditions, not moto's races.

Usage: python moto_serial_server.py HOST PORT
"""

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    # Room for hundreds of clients waiting at once (the contested-booking tests).
    BaseWSGIServer.request_queue_size = 1024
    app = DomainDispatcherApplication(create_backend_app)
    make_server(host, port, app, threaded=False, request_handler=MotoRequestHandler).serve_forever()
