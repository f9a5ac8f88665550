"""What the project's test servers share (standard library only): their
common options, the loopback-only listening address, TLS material, the port
file, and serving until SIGTERM, SIGINT or the end of stdin."""

import ipaddress
import os
import signal
import socket
import ssl
import sys
import threading

import http_base  # next to this file


def add_arguments(parser):
    """The options every test server takes: --host, --port, --port-file,
    --tls-cert, --tls-key, --exit-on-stdin-eof and --verbose."""
    parser.add_argument("--host", default="127.0.0.1", help="loopback address only")
    parser.add_argument("--port", type=int, default=0, help="0 = kernel-chosen")
    parser.add_argument("--port-file")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes (the parent died)")
    parser.add_argument("--verbose", action="store_true", help="log requests on stderr")


def check_arguments(parser, args):
    """Checks the options of add_arguments() and sets args.family."""
    args.family = loopback_family(parser, args.host)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")


def loopback_family(parser, host):
    """The address family of --host, which must be a loopback IP address: a
    test server has no real security and is never exposed."""
    try:
        host_ip = ipaddress.ip_address(host)
    except ValueError:
        parser.error(f"--host must be a loopback IP address, not {host!r}")
    if not host_ip.is_loopback:
        parser.error(f"--host {host} is not loopback (127.0.0.0/8 or ::1)")
    return socket.AF_INET6 if host_ip.version == 6 else socket.AF_INET


def listen(server_cls, family, address, *args, name):
    """server_cls(address, *args) on `family`, or None after one line on
    stderr when it cannot listen."""
    if family == socket.AF_INET6:
        server_cls = type(server_cls.__name__ + "6", (server_cls,),
                          {"address_family": socket.AF_INET6})
    try:
        return server_cls(address, *args)
    except OSError as e:
        sys.stderr.write(f"{name}: cannot listen on {address[0]}:{address[1]}: {e}\n")
        return None


def serve(server, host, port_file=None, exit_on_stdin_eof=False):
    """Writes the port file, prints `listening <host> <port>` (the one line on
    stdout) and serves until a signal or, with exit_on_stdin_eof, until stdin
    closes (the parent died). Returns the exit status."""
    port = server.server_address[1]
    if port_file:
        # Write-then-rename so a reader polling the file never sees it half written.
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, port_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if exit_on_stdin_eof:
        def watch_stdin():
            # os.read, not sys.stdin: a daemon thread blocked inside a
            # buffered reader makes interpreter shutdown abort.
            while os.read(0, 4096):
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()

    # serve_forever runs on a thread because shutdown() must be called from
    # another thread than the one serving; the main thread waits for signals.
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                               daemon=True)
    serving.start()
    print(f"listening {host} {port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


def run(server_cls, args, make_state, client_ca=None):
    """Serves make_state() with server_cls (an http_base.Server) as the
    options of add_arguments() say, over TLS when they name its material
    (client_ca: see http_base.make_ssl_context). Returns the exit status: 2
    when it cannot start."""
    name = server_cls.log_name
    ssl_context = None
    if args.tls_cert:
        try:
            ssl_context = http_base.make_ssl_context(args.tls_cert, args.tls_key, client_ca)
        except (OSError, ssl.SSLError) as e:
            sys.stderr.write(f"{name}: cannot load TLS material: {e}\n")
            return 2
    server = listen(server_cls, args.family, (args.host, args.port),
                    make_state(), ssl_context, args.verbose, name=name)
    if server is None:
        return 2
    return serve(server, args.host, args.port_file, args.exit_on_stdin_eof)
