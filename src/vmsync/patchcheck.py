"""Checks of one patch of the series, each a list of problems (empty when it
passes): checkpatch, a W=1 C=2 build, kernel-doc, the docs build (make
htmldocs, or docutils where Sphinx cannot run)."""

import os
import re
import shutil
import sys

from .util import say, last_line, run_cmd


WARNING_RE = re.compile(r'^(\S+?):\d+:(?:\d+:)? (warning|error): (.*)$')


def compile_warnings(tree, bdir, objs, env):
    """Warnings from a W=1 build with sparse (C=2) of objs, as a set of
    (file, message) without line numbers."""
    cmd = ['make', '-C', tree, 'O=' + bdir, 'ARCH=um', 'W=1', 'C=2',
           'CC=ccache gcc', '-j%d' % (os.cpu_count() or 1)] + objs
    rc, out = run_cmd(cmd, env=env, check=False)
    found = set()
    for line in out.splitlines():
        m = WARNING_RE.match(line.strip())
        if m:
            found.add((os.path.normpath(m.group(1)).replace(tree + '/', ''),
                       '%s: %s' % (m.group(2), m.group(3))))
    if rc:
        found.add(('make', 'exit %d: %s' % (rc, last_line(out))))
    return found


def checkpatch(tree, patch):
    # The tree's history is vmsync's import of a tarball: no upstream commit
    # id can be looked up in it, so that one check is left to a real clone.
    # FILE_PATH_CHANGES asks whether MAINTAINERS needs updating for a new
    # file: the series leaves that to the mm maintainers (its cover letter
    # asks them), and mm/ and Documentation/mm/ are covered by F: lines.
    rc, out = run_cmd(['perl', os.path.join(tree, 'scripts/checkpatch.pl'),
                       '--strict', '--no-color',
                       '--ignore', 'UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES',
                       patch], cwd=tree, check=False)
    m = re.search(r'^total: (\d+) errors, (\d+) warnings, (\d+) checks', out, re.M)
    if not m:
        return ['checkpatch printed no total: %s' % last_line(out)]
    if m.group(0) != 'total: 0 errors, 0 warnings, 0 checks':
        return [l for l in out.splitlines() if re.match(r'^(ERROR|WARNING|CHECK):', l)] \
            or [m.group(0)]
    return []


def kernel_doc(tree, path):
    rc, out = run_cmd([os.path.join(tree, 'scripts/kernel-doc'), '-Wall', '-none',
                       path], cwd=tree, check=False)
    # 'file:LINE:' (perl kernel-doc) or 'file:LINE ' (python, 6.17+)
    return set(re.sub(r':\d+\b:?', ':', l) for l in out.splitlines() if l.strip()) | \
        ({'kernel-doc exit %d' % rc} if rc else set())


# Debian packages 'make htmldocs' needs, on 6.12 (scripts/sphinx-pre-install)
# and 7.2 (tools/docs/sphinx-pre-install): Sphinx and PyYAML (7.2's
# parser_yaml extension; 6.12's pre-install asks for it too), Pod::Usage (perl).
# Both conf.py default to the alabaster theme, which Sphinx ships: no
# sphinx-rtd-theme unless DOCS_THEME asks for it.  dot/convert are optional.
DOCS_PACKAGES = ['python3-sphinx', 'python3-yaml', 'perl']
DOC_WARNING_RE = re.compile(r'\b(WARNING|ERROR|CRITICAL|SEVERE):')


def sphinx_dir(path):
    """Documentation/dev-tools/x.rst -> dev-tools (make htmldocs SPHINXDIRS=)"""
    parts = path.split('/')
    return parts[1] if len(parts) > 2 and parts[0] == 'Documentation' else None


def htmldocs_warnings(tree, sphinxdir, outdir, env=None):
    """(warnings, None) of a fresh 'make htmldocs SPHINXDIRS=sphinxdir' (a
    fresh output dir: Sphinx does not repeat an unchanged page's warnings),
    as a set of lines without line numbers or the tree's path; or (None,
    why) when the docs build could not run at all."""
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    env = dict(env or os.environ, PYTHONDONTWRITEBYTECODE='1')   # no __pycache__ in the tree
    rc, out = run_cmd(['make', '-C', tree, 'O=' + outdir, 'htmldocs',
                       'SPHINXDIRS=' + sphinxdir], env=env, check=False)
    found = set()
    for line in out.splitlines():
        if DOC_WARNING_RE.search(line):
            line = line.strip().replace(os.path.join(tree, ''), '')
            found.add(re.sub(r':\d+:', ':', line))
    shutil.rmtree(outdir, ignore_errors=True)
    if rc and not any('.rst' in w for w in found):
        said = [l for l in out.splitlines()
                if l.strip() and not re.match(r'make(\[\d+\])?: (Entering|Leaving|\*\*\*) ', l)]
        return None, 'make htmldocs exit %d: %s' % (rc, said[-1].strip() if said else '')
    if rc:
        found.add('make htmldocs exit %d' % rc)
    return found, None


def rst_problems(tree, path):
    """Where Sphinx cannot run: a new page valid to docutils' own parser
    (Sphinx-only roles and directives would be reported too) and listed in
    its index's toctree (Sphinx itself warns about a page in no toctree)."""
    code = ('import sys, docutils.core, docutils.utils\n'
            'try:\n'
            '    docutils.core.publish_doctree(open(sys.argv[1]).read(),\n'
            '        source_path=sys.argv[1],\n'
            '        settings_overrides={"halt_level": 2, "report_level": 2})\n'
            'except docutils.utils.SystemMessage as e:\n'
            '    print(e); sys.exit(1)\n')
    rc, out = run_cmd([sys.executable, '-c', code, os.path.join(tree, path)],
                      check=False)
    problems = [last_line(out)] if rc else []
    page = os.path.splitext(os.path.basename(path))[0]
    index = os.path.join(os.path.dirname(os.path.join(tree, path)), 'index.rst')
    with open(index) as f:
        if not re.search(r'\.\. toctree::(\n(   .*)?)*\n   %s\n' % re.escape(page), f.read()):
            problems.append('%s is in no toctree of %s' % (page, os.path.relpath(index, tree)))
    return problems


def print_checks(results):
    bad = 0
    for what, problems in results:
        say('%-4s %s' % ('ok' if not problems else 'FAIL', what))
        for p in problems:
            say('       ' + p)
        bad += bool(problems)
    return bad
