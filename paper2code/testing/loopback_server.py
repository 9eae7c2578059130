"""A loopback OpenAI-compatible HTTP server for tests, benchmarks and ``make demo``.

``POST /v1/chat/completions`` answers with a responder (by default the demo transcript), with
``usage`` including ``prompt_tokens_details.cached_tokens`` computed as the longest token
prefix the prompt shares with any earlier request (how OpenAI and vLLM prefix caching behave).
Messages may hold OpenAI content parts: ``image_url`` parts (``data:`` URLs) count at the flat
estimate of ``paper2code.tokens.image_tokens``, and the responder sees their text parts.
``GET /v1/models`` lists the served model. Optional simulated latency (time to first token plus
tokens per second) and a queue of injected faults: ``429`` (with retry headers), ``500``,
``timeout`` (the reply comes after the client gave up), ``malformed`` (a 200 whose body is not
JSON) and ``truncated`` (a 200 whose JSON is cut off).

``"stream": true`` requests are answered as server-sent events (``chat.completion.chunk``s, the
content in pieces paced by ``tokens_per_s``, a usage chunk when ``stream_options.include_usage``
is set, then ``data: [DONE]``).

Counters: ``requests`` (every chat request body), ``answered`` (valid completions),
``faults_served``, ``calls`` (requests per ``"METHOD /path"``), ``prompt_tokens_total`` and
``cached_tokens_total``.

Also a command: ``python -m paper2code.testing.loopback_server --script transcript.yaml --port N``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from paper2code.settings import LLMSettings, ModelInfoSettings
from paper2code.testing.transcript import NoRuleMatched, ScriptedReply, Transcript
from paper2code.tokens import IMAGE_BASE_TOKENS, _encoding, count_tokens, image_data_tokens

Responder = Callable[[list[dict[str, Any]]], ScriptedReply]
FAULTS = ("429", "500", "timeout", "malformed", "truncated")
CHAT_ROUTE = re.compile(r"(/v1)?/chat/completions|/openai/deployments/[^/]+/chat/completions")
"""Chat routes served: OpenAI's (with or without ``/v1``) and Azure OpenAI's."""
STREAM_PIECE_CHARS = 16
"""Characters of content per streamed chunk."""


def _is_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "image_url"


def _prompt_pieces(messages: list[dict[str, Any]]) -> Iterator[str | dict[str, Any]]:
    """The prompt as text pieces and image parts, in order (role and content of each message;
    content parts one by one where there are images)."""
    for m in messages:
        content = m.get("content")
        calls = m.get("tool_calls")
        tail = json.dumps(calls, ensure_ascii=False) if calls else ""
        if not (isinstance(content, list) and any(_is_image(p) for p in content)):
            yield f"<|{m.get('role')}|>{json.dumps(content, ensure_ascii=False)}{tail}"
            continue
        yield f"<|{m.get('role')}|>["
        for i, part in enumerate(content):
            yield ", " if i else ""
            yield part if _is_image(part) else json.dumps(part, ensure_ascii=False)
        yield f"]{tail}"


def _image_token_ids(part: dict[str, Any]) -> list[int]:
    """An image part as ``image_tokens`` copies of one negative id drawn from its URL (never a
    real token id; equal images give equal ids, so prefix caching sees them)."""
    url = str((part.get("image_url") or {}).get("url", ""))
    ident = -1 - int(hashlib.sha256(url.encode()).hexdigest()[:12], 16)
    _, _, data = url.partition("base64,")
    try:
        n = image_data_tokens(base64.b64decode(data, validate=True)) if data else 0
    except binascii.Error:
        n = 0
    return [ident] * (n or IMAGE_BASE_TOKENS)


def prompt_tokens_of(messages: list[dict[str, Any]]) -> list[int]:
    """The prompt as token ids (role and content of each message, in order); an image counts as
    ``paper2code.tokens.image_tokens`` of its size, never by its base64 bytes."""
    enc = _encoding()
    ids: list[int] = []
    text = ""
    for piece in [*_prompt_pieces(messages), None]:
        if isinstance(piece, str):
            text += piece
            continue
        ids += list(enc.encode_ordinary(text)) if enc is not None else list(text.encode("utf-8"))
        text = ""
        if piece is not None:
            ids += _image_token_ids(piece)
    return ids


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class LoopbackServer:
    """Run with ``with LoopbackServer(...) as server: server.base_url``."""

    def __init__(
        self,
        responder: Responder | Transcript | None = None,
        *,
        model: str = "loopback-model",
        ttft_s: float = 0.0,
        tokens_per_s: float | None = None,
        timeout_sleep_s: float = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
    ) -> None:
        if responder is None:
            responder = Transcript.load()
        self.responder: Responder = (
            responder.respond if isinstance(responder, Transcript) else responder
        )
        self.model = model
        self.api_key = api_key
        """When set, requests without ``Authorization: Bearer <api_key>`` get a 401."""
        self.ttft_s = ttft_s
        self.tokens_per_s = tokens_per_s
        self.timeout_sleep_s = timeout_sleep_s
        self.faults: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        """Every chat request body received (faulted ones included)."""
        self.headers: list[dict[str, str]] = []
        """Headers of every chat request (lower-case names), aligned with ``requests``."""
        self.answered = 0
        """Chat requests answered with a valid completion."""
        self.faults_served: list[str] = []
        self.calls: Counter[str] = Counter()
        """Requests received per ``"METHOD /path"`` (any route, faulted or not)."""
        self.prompt_tokens_total = 0
        self.cached_tokens_total = 0
        self._prompts: list[list[int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.loopback = self  # type: ignore[attr-defined]
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def llm_settings(self, **overrides: Any) -> LLMSettings:
        """``LLMSettings`` pointing the real client stack at this server: its model, no API key,
        JSON-schema output on, short timeouts; ``overrides`` replace any field."""
        fields: dict[str, Any] = {
            "base_url": self.base_url,
            "model": self.model,
            "api_key": None,
            "model_info": ModelInfoSettings(structured_output=True),
            "timeout_s": 10.0,
            "max_retries": 2,
            "cache": False,
        }
        return LLMSettings.model_validate({**fields, **overrides})

    def inject(self, *faults: str) -> None:
        """Queue faults; each is served to one upcoming chat request, in order."""
        for f in faults:
            if f not in FAULTS:
                raise ValueError(f"unknown fault {f!r}; faults: {', '.join(FAULTS)}")
            self.faults.append(f)

    # ------------------------------------------------------------------ answering
    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """The chat completion for a request body (no faults, no latency)."""
        messages = body.get("messages", [])
        reply = self.responder(messages)
        tokens = prompt_tokens_of(messages)
        with self._lock:
            cached = max((common_prefix(tokens, p) for p in self._prompts), default=0)
            self._prompts.append(tokens)
            self.prompt_tokens_total += len(tokens)
            self.cached_tokens_total += cached
            self.answered += 1
            n = self.answered
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        finish = "stop"
        completion_text = reply.content or ""
        if reply.tool_calls:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": f"call_{n}_{i}",
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for i, c in enumerate(reply.tool_calls)
            ]
            finish = "tool_calls"
            completion_text = json.dumps(reply.tool_calls)
        completion = count_tokens(completion_text)
        return {
            "id": f"chatcmpl-loopback-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": len(tokens),
                "completion_tokens": completion,
                "total_tokens": len(tokens) + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        }

    def stream_chunks(
        self, completion: dict[str, Any], include_usage: bool
    ) -> list[dict[str, Any]]:
        """A completion as the ``chat.completion.chunk`` objects of a streamed reply."""
        choice = completion["choices"][0]
        message = choice["message"]
        base = {
            "id": completion["id"],
            "object": "chat.completion.chunk",
            "created": completion["created"],
            "model": completion["model"],
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                **base,
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
                ],
            }

        chunks = [chunk({"role": "assistant", "content": ""})]
        if message.get("tool_calls"):
            for i, call in enumerate(message["tool_calls"]):
                chunks.append(chunk({"tool_calls": [{"index": i, **call}]}))
        else:
            text = message.get("content") or ""
            step = STREAM_PIECE_CHARS
            chunks.extend(chunk({"content": text[i : i + step]}) for i in range(0, len(text), step))
        chunks.append(chunk({}, choice["finish_reason"]))
        if include_usage:
            chunks.append({**base, "choices": [], "usage": completion["usage"]})
        return chunks


class _Handler(BaseHTTPRequestHandler):
    """One HTTP exchange with the loopback server (``self.server.loopback``)."""

    protocol_version = "HTTP/1.1"

    @property
    def loop(self) -> LoopbackServer:
        return self.server.loopback  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    @property
    def route(self) -> str:
        """The request path without its query (Azure adds ``?api-version=…``)."""
        return urlsplit(self.path).path

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        # the client may have given up (a timeout test): nothing to do then
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _error(self, status: int, message: str, kind: str) -> None:
        body = json.dumps({"error": {"message": message, "type": kind, "code": status}})
        self._send(status, body.encode())

    def _stream(self, completion: dict[str, Any], body: dict[str, Any]) -> None:
        server = self.loop
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = server.stream_chunks(completion, include_usage)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # the body ends when the socket closes
        self.end_headers()
        self.close_connection = True
        pieces = max(1, len(chunks) - 2)
        tokens = completion["usage"]["completion_tokens"]
        per_piece = tokens / server.tokens_per_s / pieces if server.tokens_per_s else 0.0
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if server.ttft_s:
                time.sleep(server.ttft_s)
            for i, c in enumerate(chunks):
                if i > 0 and per_piece:
                    time.sleep(per_piece)
                self.wfile.write(f"data: {json.dumps(c)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    def _authorized(self) -> bool:
        """False (a 401 sent) when the server wants a key and the request lacks it."""
        want = self.loop.api_key
        if want is None or self.headers.get("Authorization") == f"Bearer {want}":
            return True
        self._error(401, "Incorrect API key provided (loopback)", "invalid_request_error")
        return False

    def do_GET(self) -> None:
        server = self.loop
        with server._lock:
            server.calls[f"GET {self.route}"] += 1
        if not self._authorized():
            return
        if self.route.rstrip("/") in ("/v1/models", "/models"):
            data = {
                "object": "list",
                "data": [{"id": server.model, "object": "model", "owned_by": "loopback"}],
            }
            self._send(200, json.dumps(data).encode())
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def _request(self) -> dict[str, Any] | None:
        """The JSON body of a chat request, recorded; None when an error was answered."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with self.loop._lock:
            self.loop.calls[f"POST {self.route}"] += 1
        if not CHAT_ROUTE.fullmatch(self.route.rstrip("/")):
            self._error(404, f"no route {self.path}", "not_found")
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            self._error(400, "request body is not JSON", "invalid_request_error")
            return None

    def _answer_fault(self, fault: str | None) -> bool:
        """Answer a fault that replaces the completion (429, 500); True when answered."""
        if fault == "429":
            payload = (
                b'{"error": {"message": "rate limited (injected)", "type": "rate_limit_error"}}'
            )
            self._send(429, payload, {"Retry-After": "0", "retry-after-ms": "20"})
            return True
        if fault == "500":
            self._error(500, "internal error (injected)", "server_error")
            return True
        if fault == "timeout":
            time.sleep(self.loop.timeout_sleep_s)
        return False

    def do_POST(self) -> None:
        server = self.loop
        body = self._request()
        if body is None or not self._authorized():
            return
        with server._lock:
            server.requests.append(body)
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            fault = server.faults.popleft() if server.faults else None
            if fault:
                server.faults_served.append(fault)
        if self._answer_fault(fault):
            return
        try:
            completion = server.complete(body)
        except NoRuleMatched as exc:
            self._error(400, str(exc), "invalid_request_error")
            return
        if body.get("stream") and fault in (None, "timeout"):
            self._stream(completion, body)
            return
        if server.ttft_s or server.tokens_per_s:
            n = completion["usage"]["completion_tokens"]
            time.sleep(server.ttft_s + (n / server.tokens_per_s if server.tokens_per_s else 0.0))
        data = json.dumps(completion).encode()
        if fault == "malformed":
            data = b"<html>502 Bad Gateway (injected)</html>"
        elif fault == "truncated":
            data = data[: len(data) // 2]
        self._send(200, data)


def main() -> None:  # pragma: no cover - manual use
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Serve a transcript as an OpenAI-compatible API")
    parser.add_argument(
        "--script",
        "--transcript",
        dest="transcript",
        type=Path,
        default=None,
        help="transcript YAML (default: the demo transcript)",
    )
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    args = parser.parse_args()
    server = LoopbackServer(Transcript.load(args.transcript), port=args.port)
    print(f"serving on {server.base_url}")
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
