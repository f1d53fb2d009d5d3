"""Replay of the corpus' proxy steps: send them to the double's proxy, compare with the recording.

Extends corpus.py's normalisation with the proxy placeholders (`<request-id>`, `<sha256>`, `<ms>`,
`<s>`, `<echo-body-length>`, correlation `#<counter>`, the proxy port shown as `8000`) and
compares status, every recorded header (and no extra ones), the body, what reached the echo
upstream, and the `x_cache_key_preimage` check.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from .corpus import Json, Labels

REQUEST_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
SHA256 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
COUNTER = re.compile(r"(<uuid:[^>]+>)#\d+")
TRANSPORT_LINE = re.compile(r"request line '(\S+) (\S+) (HTTP/1\.[01])'")
LATENCIES = ("x-kong-upstream-latency", "x-kong-proxy-latency", "x-kong-response-latency")
SECONDS = ("age", "ratelimit-reset", "retry-after")
IGNORED = ("date", "connection")


class ProxyLabels(Labels):
    """Labels that also know the proxy's volatile values."""

    def text(self, value: str) -> str:
        value = REQUEST_ID.sub("<request-id>", SHA256.sub("<sha256>", value))
        return COUNTER.sub(r"\1#<counter>", super().text(value))


@dataclass
class Answer:
    """The proxy's answer as the wire carried it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _body(labels: Labels, request: dict) -> bytes:
    if "json" in request:
        return json.dumps(labels.materialize(request["json"])).encode()
    if "body_text" in request:
        return labels.materialize(request["body_text"]).encode()
    if "form" in request:
        return urlencode([tuple(labels.materialize(p)) for p in request["form"]]).encode()
    if "body_generated" in request:
        spec = request["body_generated"]
        return (spec["repeat"] * spec["times"]).encode()
    return b""


def send(port: int, labels: Labels, request: dict, path: str) -> Answer:
    """Send one recorded proxy request with exactly its recorded headers (Host included)."""
    body = _body(labels, request)
    method, version = request["method"], "HTTP/1.1"
    found = TRANSPORT_LINE.search(request.get("transport", ""))
    if found:
        method, path, version = found.groups()
        path = labels.materialize(path)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if version == "HTTP/1.0":
        conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in request["headers"].items():
        if name.lower() == "content-length":
            value = str(len(body))
        conn.putheader(name, labels.materialize(value))
    conn.endheaders()
    if request.get("chunked"):
        body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n" if body else b"0\r\n\r\n"
    if body:
        conn.send(body)
    response = conn.getresponse()
    answer = Answer(response.status, response.getheaders(), response.read())
    conn.close()
    return answer


def _header_value(labels: Labels, name: str, got: str, want: str) -> str:
    lower = name.lower()
    if lower in LATENCIES and got.isdigit():
        return "<ms>"
    if lower in SECONDS and got.isdigit():
        in_range = lower == "age" or 1 <= int(got) <= 60
        return "<s>" if in_range else got
    if want == "<echo-body-length>" and got.isdigit():
        return want
    return labels.text(got)


def header_problems(labels: Labels, answer: Answer, expected: dict) -> list[str]:
    """Every recorded header with its value and wire spelling, and no header Kong did not send."""
    problems = []
    for name, want in expected.items():
        spelled = next((k for k, _ in answer.headers if k == name), None)
        got = answer.header(name)
        if got is None:
            problems.append(f"header {name} missing (want {want!r})")
            continue
        if spelled is None:
            problems.append(f"header {name} spelled differently")
        value = _header_value(labels, name, got, want)
        if value != want:
            problems.append(f"header {name}: {value!r} != {want!r}")
    wanted = {n.lower() for n in expected}
    extra = sorted({k for k, _ in answer.headers if k.lower() not in wanted | set(IGNORED)})
    return problems + ([f"extra headers {extra}"] if extra else [])


def body_problems(labels: Labels, answer: Answer, response: dict) -> list[str]:
    problems = []
    if "body" in response:
        got: Json = None
        if answer.body:
            try:
                got = labels.value(json.loads(answer.body))
            except ValueError:
                got = answer.body.decode("utf-8", "replace")
        if got != response["body"]:
            problems.append(f"body {json.dumps(got)[:300]} != {json.dumps(response['body'])[:300]}")
    if "body_text" in response:
        text = labels.text(answer.body.decode("utf-8", "replace"))
        if text != response["body_text"]:
            problems.append(f"body_text {text[:200]!r} != {response['body_text'][:200]!r}")
    return problems


def upstream_problems(labels: Labels, seen: list[dict], expected: list[dict]) -> list[str]:
    """What reached the echo (count, method, path, query, headers, body) for this request;
    bodies over 300 bytes are summarised as `<N bytes>`, as the recorder did."""
    got = [labels.value({**e, "body": e["body"] if e["body_length"] <= 300
                         else f"<{e['body_length']} bytes>"}) for e in seen]
    if len(got) != len(expected):
        return [f"upstream saw {len(got)} requests, recorded {len(expected)}"]
    return [f"upstream[{i}] {json.dumps(a, sort_keys=True)[:600]} != "
            f"{json.dumps(b, sort_keys=True)[:600]}"
            for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]


def check_problems(labels: Labels, answer: Answer, checks: dict) -> list[str]:
    """The recorded checks the double can reproduce exactly."""
    problems = []
    preimage = checks.get("x_cache_key_preimage")
    if preimage:
        want = hashlib.sha256(labels.materialize(preimage).encode()).hexdigest()
        if answer.header("X-Cache-Key") != want:
            problems.append(f"X-Cache-Key is not sha256 of {preimage!r}")
    if checks.get("body_request_id_equals_header") and _body_request_id(answer) != answer.header(
            "X-Kong-Request-Id"):
        problems.append("body request_id differs from X-Kong-Request-Id")
    return problems


def _body_request_id(answer: Answer) -> str | None:
    try:
        return json.loads(answer.body).get("request_id")
    except (ValueError, AttributeError):
        return None
