#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
bd = args[args.index('--build_dir') + 1]
os.makedirs(bd, exist_ok=True)
with open(os.path.join(bd, 'fake-calls'), 'a') as f:
    f.write(json.dumps(args) + '\n')
mode = os.environ.get('FAKE_KUNIT', 'pass')
if args[0] == 'build' and mode == 'build-error':
    print('mm/vmalloc_sync_kunit.c:1:1: error: expected something')
    sys.exit(1)
if args[0] == 'exec':
    ktap_file = os.environ['FAKE_KTAP']
    ktap = open(ktap_file).read() if mode != 'noboot' else 'Kernel panic early\n'
    # FAKE_KTAP_PATCHED: what the kernel prints once MUTANT is applied
    tree = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tree = os.path.dirname(os.path.dirname(tree))
    if os.environ.get('FAKE_KTAP_PATCHED') and \
            'return 1' in open(os.path.join(tree, 'mm/vmalloc.c')).read():
        ktap_file = os.environ['FAKE_KTAP_PATCHED']
        ktap = open(ktap_file).read()
    if mode != 'wrong-setup':       # what the suite's suite_init() logs
        ktap = 'vmalloc_sync: 3-level kernel page tables, ARCH_PAGE_TABLE_SYNC_MASK 0x0\n' + ktap
    open(os.path.join(bd, 'test.log'), 'w').write(ktap)
    # kunit.py's own reading of that output: KTAP_FILE.json (what the real
    # kunit.py wrote for it, see support.write_ktap), else nothing it parsed
    result = ktap_file + '.json'
    result = open(result).read() if os.path.exists(result) and mode != 'noboot' \
        else '{"name": "KUnit Test Group", "sub_groups": [], "test_cases": []}'
    for a in args:
        if a.startswith('--json='):
            open(a[len('--json='):], 'w').write(result)
    sys.exit(0 if mode in ('pass', 'wrong-setup') else 1)
sys.exit(0)
