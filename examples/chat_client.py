#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""One chat turn with a running `batchscope serve` over its WebSocket API (`chat` message).

    python3 examples/chat_client.py --url ws://127.0.0.1:8765/ --system "Be brief." "Hello!"

Prints which chat template the model uses (get_model), then streams the answer. The token is
found as in stream_client.py (--token, $BATCHSCOPE_API_TOKEN, or the server's token file).
Needs python3-websockets. Exit code: 0 on success, 1 on an API error, 2 on a connection or
usage problem.
"""
import argparse
import asyncio
import json
import sys

from stream_client import PROTOCOL, expect, find_token

try:
    import websockets
except ImportError:  # pragma: no cover - depends on the machine
    sys.stderr.write("python3-websockets is missing: apt install python3-websockets\n")
    sys.exit(2)


async def chat(url, token, messages, max_tokens):
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", "id": "h", "token": token, "protocol": PROTOCOL}))
        await expect(ws, "welcome", "h")
        await ws.send(json.dumps({"type": "get_model", "id": "m"}))
        model = (await expect(ws, "model", "m"))["model"]
        sys.stderr.write(f"[chat template: {model.get('chat_template_source', '?')}]\n")
        await ws.send(json.dumps({"type": "chat", "id": "c", "messages": messages,
                                  "max_tokens": max_tokens, "temperature": 0}))
        await expect(ws, "accepted", "c")
        while True:
            message = json.loads(await ws.recv())
            if message.get("id") != "c":
                continue
            if message["type"] == "token":
                sys.stdout.write(message["text"])
                sys.stdout.flush()
            elif message["type"] == "error":
                raise RuntimeError(f"{message['code']}: {message['message']}")
            elif message["type"] == "done":
                sys.stdout.write("\n")
                return message


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("message", help="the user's message")
    parser.add_argument("--system", help="a system message before it")
    parser.add_argument("--url", default="ws://127.0.0.1:8765/")
    parser.add_argument("--token")
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    token = find_token(args.token)
    if not token:
        sys.stderr.write("no access token (use --token or $BATCHSCOPE_API_TOKEN)\n")
        return 2
    messages = ([{"role": "system", "content": args.system}] if args.system else [])
    messages.append({"role": "user", "content": args.message})
    try:
        done = asyncio.run(chat(args.url, token, messages, args.max_tokens))
    except RuntimeError as e:
        sys.stderr.write(f"error: {e}\n")
        return 1
    except (OSError, websockets.exceptions.WebSocketException) as e:
        sys.stderr.write(f"connection problem: {e}\n")
        return 2
    sys.stderr.write(f"[finish: {done['finish_reason']}, {done['usage']['completion_tokens']} tokens]\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
