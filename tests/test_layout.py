"""The package's layout (src/vmsync/): every module imports on its own, no
import cycles, and library modules never import a command module."""

import ast
import os
import subprocess
import sys
import unittest

from support import SRC

PKG = os.path.join(SRC, 'vmsync')
# the commands and the command line; every other module is a library
COMMANDS = {'run', 'check', 'series', 'compile', 'selftest', 'cli'}


def modules():
    return sorted(f[:-3] for f in os.listdir(PKG)
                  if f.endswith('.py') and f != '__init__.py')


def package_imports(mod):
    """The vmsync modules that mod imports (from .x import ...)."""
    with open(os.path.join(PKG, mod + '.py')) as f:
        tree = ast.parse(f.read())
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module:
            out.add(n.module.split('.')[0])
        elif isinstance(n, ast.ImportFrom) and n.module and n.module.startswith('vmsync.'):
            out.add(n.module.split('.')[1])
    return out


class TestLayout(unittest.TestCase):
    def test_each_module_imports_alone(self):
        for mod in modules():
            p = subprocess.run([sys.executable, '-B', '-c', 'import vmsync.' + mod],
                               env=dict(os.environ, PYTHONPATH=SRC),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True)
            self.assertEqual(p.returncode, 0, '%s: %s' % (mod, p.stdout))

    def test_no_import_cycles(self):
        graph = {m: package_imports(m) for m in modules()}
        done, path = set(), []

        def visit(m):
            if m in path:
                self.fail('import cycle: ' + ' -> '.join(path[path.index(m):] + [m]))
            if m in done:
                return
            path.append(m)
            for d in sorted(graph.get(m, ())):
                visit(d)
            path.pop()
            done.add(m)
        for m in graph:
            visit(m)

    def test_libraries_do_not_import_commands(self):
        for mod in modules():
            if mod not in COMMANDS:
                self.assertEqual(package_imports(mod) & COMMANDS, set(), mod)


if __name__ == '__main__':
    unittest.main()
