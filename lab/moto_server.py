# The lab's Route 53: moto's own server, with one change. Real Route 53 answers PENDING for a while after a
# ChangeResourceRecordSets (up to 60 s; the source article measured <= 10 s) before INSYNC; moto answers
# INSYNC at once and gives every change the same id. With --insync-delay-file FILE each change gets an id of
# its own, and GetChange answers PENDING for it until the seconds written in FILE at its submission have
# passed (no file, or 0: INSYNC at once, as moto). The lab writes the file, so a test or a benchmark changes
# the delay without restarting moto (whose state lives in memory). Everything else is moto's, unchanged.
import sys
import threading
import time
import uuid

from moto.route53.responses import Route53
from moto.server import main

_submitted: dict = {}
_lock = threading.Lock()


def _delay_file(argv: list):
    if "--insync-delay-file" not in argv:
        return None
    i = argv.index("--insync-delay-file")
    path = argv[i + 1]
    del argv[i : i + 2]
    return path


def _seconds(path: str) -> float:
    try:
        with open(path) as f:
            return max(0.0, float(f.read().strip() or 0))
    except (OSError, ValueError):
        return 0.0


def _patch(path: str) -> None:
    change_rrsets = Route53.change_resource_record_sets
    get_change = Route53.get_change

    def change_resource_record_sets(self):
        result = change_rrsets(self)
        info = result.result["ChangeInfo"]
        info["Id"] = f"/change/C{uuid.uuid4().hex[:12].upper()}"
        delay = _seconds(path)
        if delay > 0:
            info["Status"] = "PENDING"
            with _lock:
                _submitted[info["Id"].split("/")[-1]] = (time.monotonic(), delay)
        return result

    def get_change_delayed(self):
        result = get_change(self)
        info = result.result["ChangeInfo"]
        with _lock:
            at, delay = _submitted.get(str(info["Id"]).split("/")[-1], (0.0, 0.0))
        if time.monotonic() - at < delay:
            info["Status"] = "PENDING"
        return result

    Route53.change_resource_record_sets = change_resource_record_sets
    Route53.get_change = get_change_delayed


if __name__ == "__main__":
    path = _delay_file(sys.argv)
    if path:
        _patch(path)
    sys.exit(main(sys.argv[1:]))
