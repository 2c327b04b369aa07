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
        # 'ii' installed, 'hi' installed and held: the second letter is the state
        if len(parts) >= 2 and parts[1][1:2] == 'i':
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


def apt_indextargets():
    """What apt itself makes of the configured sources (sources.list, .list
    and deb822 .sources files, Enabled: no, options): the records of
    apt-get indextargets."""
    rc, out = run_cmd(['apt-get', 'indextargets'], check=False)
    if rc:
        raise Fail('apt-get indextargets failed: %s' % last_line(out))
    return out


def parse_indextargets(text):
    """The deb822 records of apt-get indextargets, as dicts."""
    records = []
    for para in re.split(r'\n\s*\n', text.strip()):
        fields = {}
        for line in para.splitlines():
            k, sep, v = line.partition(':')
            if sep and not line[:1].isspace():
                fields[k.strip()] = v.strip()
        if fields:
            records.append(fields)
    return records


def debian_mirror(records):
    """URI of Debian's main archive among apt's index targets: a 'deb'
    source with component main over http(s), not the security archive;
    Origin: Debian (known once apt-get update has run) first, then a URI
    ending in /debian, then the first candidate.  None when there is none."""
    def main_archive(r):
        uri = r.get('Repo-URI', '')
        return (r.get('Target-Of') == 'deb' and r.get('Component') == 'main'
                and uri.startswith(('http://', 'https://')) and 'security' not in uri
                and not r.get('Release', '').endswith('-security'))
    cands = [r['Repo-URI'].rstrip('/') for r in records if main_archive(r)]
    for pick in ([r['Repo-URI'].rstrip('/') for r in records
                  if main_archive(r) and r.get('Origin') == 'Debian'],
                 [u for u in cands if u.endswith('/debian')], cands):
        if pick:
            return pick[0]
    return None


def newest_source(cache):
    """The newest linux-source-* in Debian unstable, via a private apt."""
    ensure_packages(['debian-archive-keyring'])
    uri = debian_mirror(parse_indextargets(apt_indextargets()))
    if not uri:
        raise Fail('no Debian main archive among the apt sources '
                   '(apt-get indextargets lists none)')
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

    # Debian's own keyring (apt-get indextargets does not say a source's
    # Signed-By; a Debian mirror is signed with Debian's keys anyway)
    keyring = '/usr/share/keyrings/debian-archive-keyring.gpg'
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
