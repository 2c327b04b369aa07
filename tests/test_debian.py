"""Debian packages and apt sources (vmsync.debian)."""

import os
import unittest
from unittest import mock

from support import data, write, TempDirTest
from vmsync import debian
from vmsync.util import Fail


class TestAptSources(TempDirTest):
    def test_deb822_and_one_line(self):
        write(os.path.join(self.tmp, 'debian.sources'), data('debian.sources'))
        write(os.path.join(self.tmp, 'x.list'),
              'deb [arch=amd64] https://packages.example.com/apt cloud main\n'
              '# deb http://old.example/debian sid main\n')
        entries = debian.parse_apt_sources([os.path.join(self.tmp, 'x.list'),
                                            os.path.join(self.tmp, 'debian.sources')])
        self.assertEqual(len(entries), 3)
        self.assertEqual(debian.debian_mirror(entries),
                         ('http://mirror.example/debian',
                          '/usr/share/keyrings/debian-archive-keyring.gpg'))

    def test_one_line_only(self):
        write(os.path.join(self.tmp, 'sources.list'),
              'deb http://security.debian.org/debian-security bookworm-security main\n'
              'deb [signed-by=/k.gpg] http://ftp.de.debian.org/debian/ bookworm main contrib\n')
        entries = debian.parse_apt_sources([os.path.join(self.tmp, 'sources.list')])
        self.assertEqual(debian.debian_mirror(entries),
                         ('http://ftp.de.debian.org/debian', '/k.gpg'))

    def test_disabled_and_none(self):
        write(os.path.join(self.tmp, 'd.sources'),
              'Types: deb\nURIs: http://m/debian\nSuites: sid\nComponents: main\nEnabled: no\n')
        self.assertEqual(debian.debian_mirror(debian.parse_apt_sources(
            [os.path.join(self.tmp, 'd.sources')])), (None, None))


class TestPackages(unittest.TestCase):
    def test_install_needs_root(self):
        # debian.ensure_packages looks up os.geteuid at the call
        with mock.patch.object(debian.os, 'geteuid', return_value=1000), \
                self.assertRaises(Fail) as cm:
            debian.ensure_packages(['vmsync-no-such-package'])
        self.assertEqual(cm.exception.code, 2)
        self.assertIn('vmsync-no-such-package', str(cm.exception))
        self.assertIn('root', str(cm.exception))


if __name__ == '__main__':
    unittest.main()
