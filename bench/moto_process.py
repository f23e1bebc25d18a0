"""moto in a process of its own, so the benchmark measures only its own memory."""

from __future__ import annotations

from multiprocessing.connection import Connection

from devserver.dynamo import EmbeddedDynamo


def serve(conn: Connection) -> None:
    server = EmbeddedDynamo().start()
    conn.send(server.endpoint_url)
    conn.recv()  # until told to stop
    server.stop()
