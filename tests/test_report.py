"""Reports and KernelCI's JSON (vmsync.report)."""

import unittest

import support  # noqa: F401  (src/ on sys.path)
from vmsync import report


class TestKernelciJson(unittest.TestCase):
    def test_crash_is_fail(self):
        kunit = {'name': 'KUnit Test Group', 'test_cases': [], 'sub_groups': [
            {'name': 'vmalloc_sync', 'sub_groups': [], 'test_cases': [
                {'name': 'a', 'status': 'PASS'}, {'name': 'b', 'status': 'ERROR'},
                {'name': 'c', 'status': 'SKIP'}]}]}
        run = {'arch': 'um', 'status': 'fail', 'cases': [
            {'name': 'vmsync.boot_log', 'status': 'ERROR'}]}
        out = report.kernelci_json(kunit, run)
        self.assertEqual([c['status'] for c in out['sub_groups'][0]['test_cases']],
                         ['PASS', 'FAIL', 'SKIP'])
        self.assertEqual(out['test_cases'], [{'name': 'vmsync.boot_log', 'status': 'FAIL'}])

    def test_no_json_at_all(self):
        out = report.kernelci_json(None, {'arch': 'i386', 'status': 'build-error', 'cases': []})
        self.assertEqual(out['test_cases'], [{'name': 'vmsync.build', 'status': 'FAIL'}])
        self.assertEqual(out['arch'], 'i386')


if __name__ == '__main__':
    unittest.main()
