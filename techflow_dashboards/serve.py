"""`make dashboards`: serve $TECHFLOW_DATA_DIR/dashboards/ on 127.0.0.1, on a free port.

The files are static and self-contained (they also open straight from disk); a local server is
for browsers or machines that restrict file:// pages. Ctrl-C stops it.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from techflow_core.paths import DASHBOARDS, dashboard_file, dashboards_dir
from techflow_core.settings import data_dir_from_env


def main() -> int:
    data_dir = data_dir_from_env()
    root = dashboards_dir(data_dir)
    built = [dashboard_file(data_dir, name) for name in DASHBOARDS]
    missing = [p for p in built if not p.exists()]
    if missing:
        print(
            f"Not built yet: {', '.join(str(p) for p in missing)}. Run `make run` first.",
            file=sys.stderr,
        )
        return 1
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    # Port 0: the OS picks a free port, printed below.
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        port = server.server_address[1]
        for path in built:
            print(f"http://127.0.0.1:{port}/{path.name}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
