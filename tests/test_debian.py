"""Debian packages and apt sources (vmsync.debian)."""

import os
import unittest
from unittest import mock

from support import data, write, TempDirTest
from vmsync import debian
from vmsync.util import Fail


class TestAptSources(TempDirTest):
    """apt's own view of the sources (apt-get indextargets), not sources.list
    files read by hand."""

    def test_debian_among_other_sources(self):
        records = debian.parse_indextargets(data('indextargets.txt'))
        self.assertEqual(len(records), 4)
        self.assertEqual(records[0]['Repo-URI'], 'https://packages.example.com/apt/')
        self.assertEqual(debian.debian_mirror(records), 'http://mirror.example/debian')

    def test_without_release_info(self):
        # before apt-get update apt knows no Origin: the URI decides
        text = data('indextargets.txt').replace('Origin: Debian\n', '')
        records = debian.parse_indextargets(text.replace(
            'Repo-URI: http://mirror.example/debian/',
            'Repo-URI: http://ftp.de.debian.org/debian/'))
        self.assertEqual(debian.debian_mirror(records), 'http://ftp.de.debian.org/debian')

    def test_none(self):
        records = debian.parse_indextargets(data('indextargets.txt'))
        # the security archive and deb-src entries are no main archive
        self.assertIsNone(debian.debian_mirror(
            [r for r in records if 'security' in r['Repo-URI'] or r['Target-Of'] != 'deb']))
        self.assertIsNone(debian.debian_mirror([]))

    def test_this_system(self):
        # whatever this machine's sources are, apt-get indextargets reads them
        try:
            text = debian.apt_indextargets()
        except (Fail, OSError) as e:
            self.skipTest('no apt here: %s' % e)
        self.assertIsInstance(debian.parse_indextargets(text), list)


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
