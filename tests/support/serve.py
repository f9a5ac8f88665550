"""What the project's test servers share (standard library only): the
loopback-only listening address, the port file, and serving until SIGTERM,
SIGINT or the end of stdin."""

import ipaddress
import os
import signal
import socket
import sys
import threading


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
