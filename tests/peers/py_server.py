"""A Python `websockets` echo server for wsdeck's tests, with its default compression
(permessage-deflate). argv[1], if given: the subprotocols it speaks, comma-separated (it
picks one of those the client offers). Prints `listening on HOST:PORT`."""
import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    protocols = sys.argv[1].split(",") if len(sys.argv) > 1 else None
    async with serve(echo, "127.0.0.1", 0, max_size=None, subprotocols=protocols) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"listening on {host}:{port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
