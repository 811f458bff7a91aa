"""A Python `websockets` echo server for wsdeck's tests, with its default compression
(permessage-deflate). Prints `listening on HOST:PORT`."""
import asyncio

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    async with serve(echo, "127.0.0.1", 0, max_size=None) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"listening on {host}:{port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
