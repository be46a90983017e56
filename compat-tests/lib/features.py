"""Feature runner shared by the Python compat scenarios (the twin of lib/features.mjs).

Each feature runs in its own daemon thread with a deadline; its outcome is printed as a
`RESULT feature<TAB>pass|fail<TAB>seconds<TAB>detail` line and appended to $COMPAT_RESULTS,
which lib/judge.mjs reads.
"""
import os
import sys
import threading
import time
import traceback


def record(feature, result, secs, detail):
    line = '%s\t%s\t%d\t%s' % (feature, result, secs, detail.replace('\t', ' ').replace('\n', ' | ')[:600])
    print('RESULT ' + line, flush=True)
    path = os.environ.get('COMPAT_RESULTS')
    if path:
        with open(path, 'a') as f:
            f.write(line + '\n')


def run_features(label, features, only, timeout_s):
    """Runs (name, fn) pairs (all, or those named in `only`), records each, then exits the process."""
    for name, fn in features:
        if only and name not in only:
            continue
        box = {}

        def run():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - reported, not swallowed
                box['error'] = e
                box['trace'] = traceback.format_exc()

        t0 = time.time()
        th = threading.Thread(target=run, daemon=True)
        th.start()
        th.join(timeout_s)
        secs = time.time() - t0
        if th.is_alive():
            record(name, 'fail', secs, '%s: timed out after %d s' % (label, timeout_s))
        elif 'error' in box:
            print(box['trace'], flush=True)
            e = box['error']
            record(name, 'fail', secs, '%s: %s: %s' % (label, type(e).__name__, e))
        else:
            record(name, 'pass', secs, label)
    sys.stdout.flush()
    os._exit(0)  # client threads of a timed-out feature must not keep the process alive
