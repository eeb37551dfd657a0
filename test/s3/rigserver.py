"""rigserver.py: how the rig's Python stand-ins (sts.py, the CloudWatch Logs
responder) run: on loopback, recording their pid, and stopping by
themselves when told to, when the process that started them is gone, or
after max_lifetime seconds, so that no test leaves a server behind.
"""

import os
import signal
import threading
import time


def serve_until_gone(server, name, bind, port, pid_file=None, max_lifetime=3 * 3600):
    """Serve server (an HTTPServer) forever, under the rules above."""
    server.daemon_threads = True

    def shutdown(*_):
        if pid_file:
            try:
                os.unlink(pid_file)
            except OSError:
                pass
        os._exit(0)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, shutdown)
    parent = os.getppid()
    started = time.time()

    def watch():
        while True:
            time.sleep(1)
            if os.getppid() != parent or parent == 1 or time.time() - started > max_lifetime:
                shutdown()
            try:
                os.kill(parent, 0)
            except OSError:
                shutdown()

    threading.Thread(target=watch, daemon=True).start()
    if pid_file:
        with open(pid_file, 'w') as f:
            f.write('%d\n' % os.getpid())
    print('%s listening on %s:%d' % (name, bind, port), flush=True)
    server.serve_forever()
