"""Debian packages and kernel sources from apt: installing what is missing,
linux-source-X.Y from the system, the newest linux-source in unstable."""

import os
import re
import shutil
import subprocess
import tempfile

from .util import Fail, say, last_line, run_cmd, safe_key
from .tree import unpack_tarball, prune


# Needed for every kernel build (Debian package names).
BUILD_PACKAGES = ['bc', 'bison', 'flex', 'libssl-dev', 'libelf-dev', 'ccache',
                  'make', 'gcc', 'git', 'xz-utils', 'patch', 'python3']
_apt_updated = False


def missing_packages(packages):
    if not packages:
        return []
    try:
        p = subprocess.run(['dpkg-query', '-W', '-f=${Package} ${db:Status-Abbrev}\n']
                           + list(packages), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, universal_newlines=True)
    except OSError:
        raise Fail('dpkg-query not found: vmsync needs a Debian system')
    ok = set()
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith('ii'):
            ok.add(parts[0].split(':')[0])
    return [p for p in packages if p not in ok]


def ensure_packages(packages):
    """apt-get install whatever is missing, saying so."""
    global _apt_updated
    packages = sorted(set(packages))
    missing = missing_packages(packages)
    if not missing:
        return
    if os.geteuid() != 0:
        raise Fail('missing packages %s; run as root so vmsync can apt-get '
                   'install them, or install them yourself' % ' '.join(missing))
    say('vmsync: installing with apt-get: %s' % ' '.join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    cmd = ['apt-get', 'install', '-y', '-q', '--no-install-recommends',
           '-o', 'DPkg::Lock::Timeout=600'] + missing
    rc, out = run_cmd(cmd, env=env, check=False)
    if rc != 0 and not _apt_updated:
        say('vmsync: apt-get update')
        run_cmd(['apt-get', 'update', '-q'], env=env, what='apt-get update')
        _apt_updated = True
        rc, out = run_cmd(cmd, env=env, check=False)
    if rc != 0:
        raise Fail('apt-get install %s failed: %s' % (' '.join(missing),
                                                     last_line(out)))


def package_version(package):
    p = subprocess.run(['dpkg-query', '-W', '-f=${Version}', package],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    return p.stdout.strip()


def debian_source(name, cache):
    """linux-source-X.Y from the system's apt sources (installed if missing)."""
    pkg = 'linux-source-' + name
    ensure_packages([pkg])
    version = package_version(pkg)
    tarball = '/usr/src/%s.tar.xz' % pkg
    if not os.path.isfile(tarball):
        raise Fail('%s is installed but %s is missing' % (pkg, tarball))
    key = safe_key('%s_%s' % (pkg, version))
    tree = os.path.join(cache, 'trees', key)
    if not os.path.isdir(tree):
        os.makedirs(os.path.dirname(tree), exist_ok=True)
        unpack_tarball(tarball, tree, cache)
        prune(cache, pkg + '_', key)
    return dict(key=key, tree=tree, source='Debian %s %s' % (pkg, version))


def parse_apt_sources(files):
    """[(uri, [suites], [components], signed_by)] of the 'deb' entries in
    one-line (.list) and deb822 (.sources) files."""
    entries = []
    for path in files:
        try:
            with open(path, errors='replace') as f:
                text = f.read()
        except OSError:
            continue
        if path.endswith('.sources'):
            for para in re.split(r'\n\s*\n', text):
                fields, last = {}, None
                for line in para.splitlines():
                    if line.startswith('#') or not line.strip():
                        continue
                    if line[0] in ' \t' and last:
                        fields[last] += '\n' + line.strip()
                        continue
                    k, _, v = line.partition(':')
                    last = k.strip().lower()
                    fields[last] = v.strip()
                if 'deb' not in fields.get('types', '').split():
                    continue
                if fields.get('enabled', 'yes').lower() == 'no':
                    continue
                signed = fields.get('signed-by', '')
                if '\n' in signed:      # inline key block
                    signed = ''
                for uri in fields.get('uris', '').split():
                    entries.append((uri, fields.get('suites', '').split(),
                                    fields.get('components', '').split(), signed))
        else:
            for line in text.splitlines():
                line = line.split('#', 1)[0].strip()
                m = re.match(r'deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$', line)
                if not m:
                    continue
                opts = dict(o.split('=', 1) for o in (m.group(1) or '').split()
                            if '=' in o)
                entries.append((m.group(2), [m.group(3)], m.group(4).split(),
                                opts.get('signed-by', '')))
    return entries


def debian_mirror(entries):
    """(uri, signed_by) of Debian's main archive among apt source entries."""
    def main_archive(e):
        uri, suites, comps, _ = e
        return (uri.startswith(('http://', 'https://')) and 'main' in comps
                and 'security' not in uri
                and not any(s.endswith('-security') for s in suites))
    cands = [e for e in entries if main_archive(e)]
    for e in cands:
        if e[0].rstrip('/').endswith('/debian'):
            return e[0].rstrip('/'), e[3]
    if cands:
        return cands[0][0].rstrip('/'), cands[0][3]
    return None, None


def apt_source_files():
    files = []
    if os.path.isfile('/etc/apt/sources.list'):
        files.append('/etc/apt/sources.list')
    d = '/etc/apt/sources.list.d'
    if os.path.isdir(d):
        files += [os.path.join(d, f) for f in sorted(os.listdir(d))
                  if f.endswith(('.list', '.sources'))]
    return files


def newest_source(cache):
    """The newest linux-source-* in Debian unstable, via a private apt."""
    ensure_packages(['debian-archive-keyring'])
    uri, signed_by = debian_mirror(parse_apt_sources(apt_source_files()))
    if not uri:
        raise Fail('no Debian main archive found in the apt sources '
                   '(/etc/apt/sources.list, /etc/apt/sources.list.d)')
    adir = os.path.join(cache, 'apt')
    for d in ('etc', 'state/lists/partial', 'cache/archives/partial', 'debs', 'keyring'):
        os.makedirs(os.path.join(adir, d), exist_ok=True)
    open(os.path.join(adir, 'state/status'), 'a').close()

    def opts(sources_list):
        return ['-o', 'Dir::Etc::SourceList=' + sources_list,
                '-o', 'Dir::Etc::SourceParts=' + os.path.join(adir, 'etc/none'),
                '-o', 'Dir::State=' + os.path.join(adir, 'state'),
                '-o', 'Dir::State::status=' + os.path.join(adir, 'state/status'),
                '-o', 'Dir::Cache=' + os.path.join(adir, 'cache'),
                '-o', 'Debug::NoLocking=1', '-q']

    def update(keyring):
        sl = os.path.join(adir, 'etc/sources.list')
        with open(sl, 'w') as f:
            f.write('deb [signed-by=%s] %s unstable main\n' % (keyring, uri))
        return sl, run_cmd(['apt-get'] + opts(sl) + ['update'], check=False)

    keyring = signed_by if signed_by.startswith('/') and os.path.isfile(signed_by) \
        else '/usr/share/keyrings/debian-archive-keyring.gpg'
    say('[source] apt-get update (%s unstable, private lists in %s) ...' % (uri, adir))
    sl, (rc, out) = update(keyring)
    if rc != 0 or re.search(r'NO_PUBKEY|EXPKEYSIG|not signed|signatures were invalid', out):
        # Maybe the installed keyring is too old: try the archive's current
        # debian-archive-keyring, fetched through the system's (verified) apt.
        kdir = os.path.join(adir, 'keyring')
        run_cmd(['apt-get', 'download', '-q', 'debian-archive-keyring'], cwd=kdir, check=False)
        debs = sorted(f for f in os.listdir(kdir) if f.endswith('.deb'))
        newer = None
        if debs:
            run_cmd(['dpkg-deb', '-x', os.path.join(kdir, debs[-1]), kdir], check=False)
            newer = os.path.join(kdir, 'usr/share/keyrings/debian-archive-keyring.gpg')
        if newer and os.path.isfile(newer):
            sl, (rc, out) = update(newer)
        if rc != 0 or re.search(r'NO_PUBKEY|EXPKEYSIG|not signed|signatures were invalid', out):
            raise Fail('cannot verify Debian unstable at %s with the Debian '
                       'archive keyring: %s' % (uri, last_line(out)))
    out = run_cmd(['apt-cache'] + opts(sl) + ['pkgnames', 'linux-source-'],
                  what='apt-cache pkgnames')[1]
    names = [n for n in out.split() if re.match(r'^linux-source-\d+\.\d+$', n)]
    if not names:
        raise Fail('no linux-source-X.Y package in Debian unstable at %s' % uri)
    pkg = max(names, key=lambda n: tuple(int(x) for x in n.split('-')[-1].split('.')))
    show = run_cmd(['apt-cache'] + opts(sl) + ['show', pkg], what='apt-cache show')[1]
    version = re.search(r'^Version:\s*(\S+)', show, re.M).group(1)
    key = safe_key('unstable-%s_%s' % (pkg, version))
    tree = os.path.join(cache, 'trees', key)
    if not os.path.isdir(tree):
        ddir = os.path.join(adir, 'debs')
        deb = [f for f in os.listdir(ddir)
               if f.startswith(pkg + '_') and f.endswith('.deb')
               and safe_key(f.split('_')[1]) == safe_key(version.split(':')[-1])]
        if not deb:
            say('[source] apt-get download %s=%s ...' % (pkg, version))
            run_cmd(['apt-get'] + opts(sl) + ['download', '%s=%s' % (pkg, version)],
                    cwd=ddir, what='apt-get download ' + pkg)
            deb = [f for f in os.listdir(ddir)
                   if f.startswith(pkg + '_') and f.endswith('.deb')]
        xdir = tempfile.mkdtemp(prefix='.deb-', dir=adir)
        try:
            run_cmd(['dpkg-deb', '-x', os.path.join(ddir, sorted(deb)[-1]), xdir],
                    what='dpkg-deb -x')
            tarball = os.path.join(xdir, 'usr/src/%s.tar.xz' % pkg)
            if not os.path.isfile(tarball):
                raise Fail('%s has no usr/src/%s.tar.xz' % (deb[0], pkg))
            os.makedirs(os.path.dirname(tree), exist_ok=True)
            unpack_tarball(tarball, tree, cache)
        finally:
            shutil.rmtree(xdir, ignore_errors=True)
        for f in os.listdir(ddir):            # the tree is all we need now
            os.remove(os.path.join(ddir, f))
        prune(cache, 'unstable-', key)
    return dict(key=key, tree=tree, source='Debian unstable %s %s' % (pkg, version))
