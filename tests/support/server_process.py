"""A test server run as a subprocess for the duration of a `with` (standard
library only): the lifecycle the test registry's and the test VTC's
fixtures share. A subclass sets `what` (for messages), `error` (the
exception it raises) and, before start(), `host`, `tls`, `_args` (see
_command()), `_start_timeout` and `_stop_timeout`."""

import os
import selectors
import subprocess
import sys
import tempfile
import time


class ServerProcess:
    what = "server"
    error = RuntimeError

    proc = None
    returncode = None
    port = None
    _stderr = None
    host = "127.0.0.1"
    tls = False

    @staticmethod
    def _command(script, *, python, host, port, tls_cert, tls_key, port_file, verbose):
        """The command line running the server `script` with the options
        every test server takes (tests/support/serve.py), to be extended
        with its own; the server stops when our end of its stdin closes."""
        args = [python or sys.executable, str(script), "--host", host, "--port", str(port),
                "--exit-on-stdin-eof"]
        if tls_cert:
            args += ["--tls-cert", str(tls_cert), "--tls-key", str(tls_key)]
        if port_file:
            args += ["--port-file", str(port_file)]
        if verbose:
            args += ["--verbose"]
        return args

    @property
    def url(self):
        """The server's base URL, without any API path."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def start(self):
        # stderr goes to a file, not a pipe: nobody drains it while tests run,
        # and a full pipe would block the server.
        self._stderr = tempfile.TemporaryFile()
        # stdin stays open as a lifeline: if this test process dies, the
        # server sees EOF and exits instead of lingering.
        self.proc = subprocess.Popen(self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr)
        try:
            line = self._read_listening_line()
            parts = line.split()
            if len(parts) != 3 or parts[0] != "listening" or not parts[2].isdigit():
                raise self.error(f"unexpected first line from the {self.what}: {line!r}")
            self.port = int(parts[2])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _read_listening_line(self):
        deadline = time.monotonic() + self._start_timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self.error(
                        f"the {self.what} did not print 'listening' within "
                        f"{self._start_timeout} s; stderr: {self.stderr_text()!r}")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    rc = self.proc.wait(timeout=self._stop_timeout)
                    raise self.error(f"the {self.what} exited with {rc} before listening; "
                                     f"stderr: {self.stderr_text()!r}")
                buf += chunk
        return buf.split(b"\n", 1)[0].decode("utf-8", "replace")

    def stop(self):
        """Terminate (then kill after stop_timeout); returns the exit status."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe:
                pipe.close()
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        return False

    def stderr_text(self):
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")
