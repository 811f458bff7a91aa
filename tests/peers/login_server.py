#!/usr/bin/env python3
"""Login styles the seed's server does not have, for wsdeck's template tests.

  login_server.py token TOKEN   Home-Assistant style: greets {"type":"auth_required"}, wants
                                {"type":"auth","access_token":TOKEN} as JSON, answers
                                {"type":"auth_ok"} or {"type":"auth_invalid"}.
  login_server.py nonce PASSWORD  a challenge: greets "nonce: <random>", wants
                                "<user> <PASSWORD> <nonce>", answers "welcome <user>" or "denied".
After the login every text message is echoed as "echo: <text>". Prints "listening on HOST:PORT".
"""
import asyncio
import json
import secrets
import sys

from websockets.asyncio.server import serve

MODE, SECRET = sys.argv[1], sys.argv[2]


async def token(ws):
    await ws.send(json.dumps({"type": "auth_required"}))
    async for msg in ws:
        try:
            m = json.loads(msg)
        except ValueError:
            await ws.send(json.dumps({"type": "auth_invalid", "message": "not JSON"}))
            continue
        if m.get("type") == "auth" and m.get("access_token") == SECRET:
            await ws.send(json.dumps({"type": "auth_ok"}))
            return True
        await ws.send(json.dumps({"type": "auth_invalid"}))


async def nonce(ws):
    n = secrets.token_hex(4)
    await ws.send(f"nonce: {n}")
    async for msg in ws:
        parts = msg.split(" ")
        if len(parts) == 3 and parts[1] == SECRET and parts[2] == n:
            await ws.send(f"welcome {parts[0]}")
            return True
        await ws.send("denied")


async def handler(ws):
    if await (token(ws) if MODE == "token" else nonce(ws)):
        async for msg in ws:
            await ws.send(f"echo: {msg}")


async def main():
    async with serve(handler, "127.0.0.1", 0) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"listening on {host}:{port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
