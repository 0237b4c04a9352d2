#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stream one generation from a running `batchscope serve` over its WebSocket API.

    python3 examples/stream_client.py --url ws://127.0.0.1:8765/ "Once upon a time"

The access token comes from --token, else $BATCHSCOPE_API_TOKEN, else the token file the
server wrote ($XDG_CONFIG_HOME/batchscope/api-token, usually ~/.config/batchscope/api-token).
Needs the Debian package python3-websockets. Exit code: 0 on success, 1 on an API error,
2 on a connection or usage problem.
"""
import argparse
import asyncio
import json
import os
import pathlib
import sys

try:
    import websockets
except ImportError:  # pragma: no cover - depends on the machine
    sys.stderr.write("python3-websockets is missing: apt install python3-websockets\n")
    sys.exit(2)

PROTOCOL = "batchscope.v1"


def find_token(cli_token):
    if cli_token:
        return cli_token
    if os.environ.get("BATCHSCOPE_API_TOKEN"):
        return os.environ["BATCHSCOPE_API_TOKEN"]
    config = pathlib.Path(os.environ.get("XDG_CONFIG_HOME", pathlib.Path.home() / ".config"))
    path = config / "batchscope" / "api-token"
    try:
        return path.read_text().strip()
    except OSError:
        return None


async def expect(ws, wanted_type, wanted_id):
    """Waits for the reply of `wanted_type` to our message `wanted_id`; raises on an error."""
    while True:
        message = json.loads(await ws.recv())
        if message.get("type") == "error" and message.get("id") in (wanted_id, None):
            raise RuntimeError(f"{message['code']}: {message['message']}")
        if message.get("type") == wanted_type and message.get("id") == wanted_id:
            return message


async def run(args, token):
    async with websockets.connect(args.url, max_size=2**24) as ws:
        await ws.send(json.dumps({"type": "hello", "id": "hello", "protocol": PROTOCOL,
                                  "token": token, "client": "stream_client.py"}))
        welcome = await expect(ws, "welcome", "hello")
        print(f"# connected to {welcome['server']} serving model '{welcome['model']}'",
              file=sys.stderr)
        request = {"type": "generate", "id": "g", "prompt": args.prompt,
                   "max_tokens": args.max_tokens, "temperature": args.temperature,
                   "priority": args.priority, "stream": True}
        if args.seed is not None:
            request["seed"] = args.seed
        if args.stop:
            request["stop"] = args.stop
        await ws.send(json.dumps(request))
        accepted = await expect(ws, "accepted", "g")
        print(f"# request {accepted['request_id']} accepted, queue position "
              f"{accepted['queue_position']}", file=sys.stderr)
        while True:
            message = json.loads(await ws.recv())
            kind = message.get("type")
            if kind == "error":
                raise RuntimeError(f"{message['code']}: {message['message']}")
            if message.get("id") != "g":
                continue
            if kind == "token":
                sys.stdout.write(message["text"])
                sys.stdout.flush()
            elif kind == "done":
                usage, timings = message["usage"], message["timings"]
                print()
                print(f"[done] finish_reason={message['finish_reason']} "
                      f"prompt_tokens={usage['prompt_tokens']} "
                      f"completion_tokens={usage['completion_tokens']} "
                      f"cached_prompt_tokens={usage['cached_prompt_tokens']} "
                      f"ttft_ms={timings['ttft_ms']:.1f} total_ms={timings['total_ms']:.1f} "
                      f"tokens_per_second={timings['tokens_per_second']:.1f}")
                print(f"[text] {message['text']}")
                return 0 if message["finish_reason"] != "error" else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prompt")
    parser.add_argument("--url", default="ws://127.0.0.1:8765/")
    parser.add_argument("--token", help="access token (default: env, then token file)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--priority", default="normal",
                        choices=["low", "normal", "high", "critical"])
    parser.add_argument("--seed", type=int)
    parser.add_argument("--stop", action="append", help="stop string (repeatable)")
    args = parser.parse_args()
    token = find_token(args.token)
    if not token:
        print("no access token: pass --token or set BATCHSCOPE_API_TOKEN", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args, token))
    except RuntimeError as error:
        print(f"API error: {error}", file=sys.stderr)
        return 1
    except (OSError, websockets.exceptions.WebSocketException) as error:
        print(f"connection failed: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
