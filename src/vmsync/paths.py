"""Where things are: the checkout's directories (some overridable by
environment variables) and the cache."""

import os

# the checkout: src/vmsync/paths.py -> src/vmsync -> src -> ROOT
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
# VMSYNC_SUITE: another suite dir (the unit tests use throwaway ones)
SUITE_DIR = os.environ.get('VMSYNC_SUITE') or os.path.join(ROOT, 'kernel')
# backports/<VERSION.PATCHLEVEL>/: what kernels up to that version lack, applied
# after kernel/ (run.backports_for)
BACKPORTS_DIR = os.environ.get('VMSYNC_BACKPORTS') or os.path.join(ROOT, 'backports')
MUTANTS_DIR = os.environ.get('VMSYNC_MUTANTS') or os.path.join(ROOT, 'mutants')
TESTS_DIR = os.path.join(ROOT, 'tests')
SERIES_DIR = os.path.join(ROOT, 'series')
# in a kernel tree: the suite's KUnit config (kernel/ must provide it)
KUNITCONFIG = 'mm/.kunitconfig'


def cache_dir():
    """$VMSYNC_CACHE, default ~/.cache/vmsync (read at each call)."""
    return os.path.abspath(os.path.expanduser(
        os.environ.get('VMSYNC_CACHE') or '~/.cache/vmsync'))
