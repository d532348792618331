"""Runs the Python original (PyPI SimpleWebSocketServer 0.1.2) with its own example handlers
(SimpleExampleServer's SimpleEcho / SimpleChat), on a chosen host and port (0 = any free port),
and prints `listening on ws://IP:PORT/` once bound, for the benchmark harness."""
import argparse
import sys

from SimpleWebSocketServer import SimpleWebSocketServer
from SimpleWebSocketServer.SimpleExampleServer import SimpleChat, SimpleEcho

p = argparse.ArgumentParser()
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--port", type=int, default=0)
p.add_argument("--example", default="echo", choices=["echo", "chat"])
a = p.parse_args()

server = SimpleWebSocketServer(a.host, a.port, SimpleChat if a.example == "chat" else SimpleEcho)
host, port = server.serversocket.getsockname()[:2]
print(f"listening on ws://{host}:{port}/", flush=True)
try:
    server.serveforever()
except KeyboardInterrupt:
    server.close()
    sys.exit(0)
