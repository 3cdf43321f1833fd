"""``python -m app.healthcheck``: exit 0 when the local server is ready, else 1.

Container health checks run this every few seconds, so it uses the standard library only and
reads ``APP_PORT`` itself: it starts in a few milliseconds instead of loading the application.
"""

import os
import sys
import urllib.error
import urllib.request


def check(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether ``url`` answers 200, and a one-line account of what happened."""
    # No proxy: http_proxy in a container's environment must not reroute a local check.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        return False, f"Error: {url}: {exc}"
    return status == 200, f"{url}: {status}"


def default_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('APP_PORT', '8000')}/readyz"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    ok, message = check(args[0] if args else default_url())
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
