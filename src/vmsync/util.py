"""Small helpers every module uses: the one-line error, output, commands, files."""

import contextlib
import fcntl
import os
import re
import subprocess
import time


class Fail(Exception):
    """An error the user must see as one line; code is the exit status."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


def say(msg=''):
    print(msg, flush=True)


def parse_names(spec, known, what):
    """--arch's value: 'all' (every name in known, in order) or a
    comma-separated list of names in known; anything else is a Fail."""
    if spec == 'all':
        return list(known)
    names = [n.strip() for n in spec.split(',') if n.strip()]
    for n in names:
        if n not in known:
            raise Fail('unknown %s %r; known: %s, all' % (what, n, ', '.join(known)))
    if not names:
        raise Fail('--arch needs a value; known: %s, all' % ', '.join(known))
    return names


def fmt_s(seconds):
    return '%.1f s' % seconds


def last_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else ''


def run_cmd(cmd, cwd=None, env=None, log=None, check=True, what=None):
    """Run a command.  Output goes to the file log (appended) or is
    captured; returns (returncode, output-or-'')."""
    try:
        if log:
            with open(log, 'a') as f:
                f.write('$ %s\n' % ' '.join(cmd))
                f.flush()
                rc = subprocess.call(cmd, cwd=cwd, env=env, stdout=f,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
            out = ''
        else:
            p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL,
                               universal_newlines=True, errors='replace')
            rc, out = p.returncode, p.stdout
    except OSError as e:
        raise Fail('cannot run %s: %s' % (cmd[0], e.strerror))
    if check and rc != 0:
        detail = last_line(out) if out else ('see %s' % log if log else '')
        raise Fail('%s failed (exit %d)%s' % (what or ' '.join(cmd[:3]), rc,
                                              ': ' + detail if detail else ''))
    return rc, out


def tail(path, n=25):
    """The error lines of a log if it has some, else its last n lines."""
    try:
        with open(path, errors='replace') as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    errors = [l for l in lines if re.search(r'\berror\b|\*\*\*|Missing: ', l, re.I)
              and not l.startswith('$ ')]
    return errors[:15] if errors else lines[-n:]


def write_if_changed(path, data):
    """Write bytes; leave the file (and its mtime) alone if unchanged."""
    try:
        with open(path, 'rb') as f:
            if f.read() == data:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def safe_key(s):
    return re.sub(r'[^A-Za-z0-9._+-]', '_', s)


@contextlib.contextmanager
def cache_lock(cache):
    """Exclusive flock on $CACHE/lock: one kernel build at a time."""
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, 'lock')
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say('vmsync: waiting for %s (another kernel build holds it) ...' % path)
            start = time.time()
            fcntl.flock(fd, fcntl.LOCK_EX)
            say('vmsync: got the lock after %s' % fmt_s(time.time() - start))
        yield
    finally:
        os.close(fd)
