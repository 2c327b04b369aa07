"""vmsync: put the KUnit suite in kernel/ into a kernel tree and run it.

The package behind ./vmsync (see README.md, "Layout").  Python 3 standard
library only.  Library modules (util, paths, arches, debian, edit, tree,
sources, ktap, kunit_run, report, patchcheck) never call a command; the
command modules (run, check, series, selftest) compose them, and cli
dispatches to the commands.
"""
