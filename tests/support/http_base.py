"""The HTTP plumbing the test registry and the test VTC share (standard
library only): answers, request bodies (Content-Length or chunked), a
keep-alive handler that sends every method through one dispatcher, and a
threading server that does TLS handshakes on each connection's own thread.

A server subclasses Handler (server_version, serve_api(), control()) and
Server (log_name, handler_class); serve.py then listens and serves."""

import json
import socket
import socketserver
import ssl
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CONTROL_PREFIX = "/_control/"
MAX_BODY_BYTES = 8 * 1024 * 1024
# A peer that connects but never finishes the TLS handshake must not pin a
# worker thread forever.
HANDSHAKE_TIMEOUT_S = 10
# Idle keep-alive connections are closed after this long so that abandoned
# client connections do not accumulate threads.
IDLE_TIMEOUT_S = 120


class BadRequest(Exception):
    """Client error in a control call or in the framing of a request;
    answered with 400."""


def take_injection(injections, matches):
    """Takes one use of the first of `injections` (a list of faults to
    answer with, each with a `times` left, -1 for ever) for which
    matches(injection) holds, dropping it when used up. Returns it, or None
    when none matches. The caller holds the lock guarding the list."""
    for i, inj in enumerate(injections):
        if matches(inj):
            if inj.times != -1:
                inj.times -= 1
                if inj.times == 0:
                    del injections[i]
            return inj
    return None


class Response:
    """What the handler writes back (status, extra headers, body bytes). A
    payload other than bytes or str is sent as JSON (encode_json)."""

    def __init__(self, status, payload=None, headers=None, content_type="application/json"):
        self.status = status
        if payload is None:
            self.body = b""
        elif isinstance(payload, (bytes, bytearray)):
            self.body = bytes(payload)
        elif isinstance(payload, str):
            self.body = payload.encode("utf-8")
        else:
            self.body = self.encode_json(payload)
        self.headers = list(headers or [])
        self.content_type = content_type

    @staticmethod
    def encode_json(value):
        return json.dumps(value, sort_keys=True).encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    """Reads each request's body and hands it to control(name, raw) for
    paths under CONTROL_PREFIX, else to serve_api(split path, raw)."""

    protocol_version = "HTTP/1.1"  # keep-alive; every answer is length-framed
    # Buffered writes: headers and body leave in one segment. Unbuffered,
    # the body waits on Nagle for the client's delayed ACK: ~40 ms per
    # request on a kept-alive socket.
    wbufsize = 1 << 16
    timeout = IDLE_TIMEOUT_S
    response_class = Response

    # Route every method (including ones http.server does not know, which it
    # would answer with 501) through one dispatcher, so that the server
    # decides how to answer unknown methods.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s: %s %s\n" % (self.server.log_name, self.address_string(),
                                               fmt % args))

    def _read_body(self):
        """Read the whole body, even of refused requests, so that the
        connection stays in step for keep-alive."""
        te = self.headers.get("Transfer-Encoding", "")
        if te:
            if te.strip().lower() != "chunked":
                raise BadRequest("unsupported Transfer-Encoding")
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise BadRequest("bad Content-Length")
        return self.rfile.read(int(length))

    def _read_chunked(self):
        # libcurl uses chunked uploads when it does not know the size upfront.
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers are ignored
                return bytes(out)
            if len(out) + size > MAX_BODY_BYTES:
                raise BadRequest("body too large")
            out += self.rfile.read(size)
            self.rfile.readline(1024)  # CRLF after the chunk

    def _send(self, resp):
        self.send_response(resp.status)
        for k, v in resp.headers:
            self.send_header(k, v)
        # RFC 9110: 204/304 carry neither a body nor Content-Length; they are
        # self-delimiting so keep-alive still works.
        if resp.status not in (204, 304):
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if resp.status not in (204, 304) and self.command != "HEAD":
            self.wfile.write(resp.body)
        self.wfile.flush()

    def _send_error(self, status, message):
        self._send(self.response_class(status, {"error": message}))

    def _abort(self, rst=False):
        """Close without any answer: FIN (an 'empty reply') or, with rst, a
        TCP reset ('connection reset by peer')."""
        self.close_connection = True
        sock = self.connection
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self):
        try:
            raw = self._read_body()
        except BadRequest as e:
            self.close_connection = True  # framing is lost; cannot keep alive
            self._send_error(400, str(e))
            return
        split = urlsplit(self.path)
        if split.path.startswith(CONTROL_PREFIX):
            self.control(split.path[len(CONTROL_PREFIX):], raw)
        else:
            self.serve_api(split, raw)

    def serve_api(self, split, raw):
        raise NotImplementedError

    def control(self, name, raw):
        raise NotImplementedError


class Server(ThreadingHTTPServer):
    """Serves handler_class on a thread per connection, over TLS when given
    an ssl_context; `state` is the handlers' shared state."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops connection attempts when a
    # client opens dozens at once (concurrency 32); a dropped SYN costs the
    # client a one-second retransmission.
    request_queue_size = 128
    log_name = "server"  # what starts its lines on stderr
    handler_class = Handler

    def __init__(self, address, state, ssl_context=None, verbose=False):
        self.state = state
        self.ssl_context = ssl_context
        self.verbose = verbose
        super().__init__(address, self.handler_class)

    def server_bind(self):
        # HTTPServer.server_bind would call socket.getfqdn(), a reverse DNS
        # lookup that can stall for seconds in sandboxes; the name is unused.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # TLS handshakes run here, on the per-connection thread, rather than
        # in accept(): a stalled or failing handshake must not block others.
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        # Handshake explicitly: with do_handshake_on_connect, wrap_socket
        # closes the socket itself on failure, before we can close it gently.
        tls = self.ssl_context.wrap_socket(request, server_side=True,
                                           do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write(f"{self.log_name}: TLS handshake with {client_address[0]} "
                                 f"failed: {e}\n")
            _lingering_close(tls)
            return
        try:
            tls.settimeout(None)  # the handler applies its own idle timeout
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            # wrap_socket detached `request`, so shutdown_request() cannot
            # close this one for us.
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Clients hanging up (including drop/reset injections and refused
        # TLS peers) are normal here; anything else is a bug worth a
        # traceback on stderr.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _lingering_close(sock):
    """Close after a refused handshake without losing our TLS alert.

    With TLS 1.3 the client considers the handshake done before we have
    checked its certificate and sends its request at once. Closing with that
    request unread makes the kernel send RST, and the client then reports a
    bare reset instead of the "certificate required" alert, so it cannot
    tell a TLS refusal (to vtc-sync a config error) from a network failure.
    Send FIN, drain briefly, then close."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1.0)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and sock.recv(65536):
            pass
    except OSError:
        pass
    finally:
        sock.close()


def make_ssl_context(cert, key, client_ca=None):
    """A TLS 1.2+ server context; with client_ca, clients must present a
    certificate issued by it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=client_ca)
    return ctx
