"""The architectures vmsync runs on, as data (--arch NAME).

An Arch says how kunit.py builds and boots one page-table setup and how to
tell from the boot log that it really was that setup.  ARCHES maps our name
(the --arch value) to it, in the order 'all' and the help text list them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .util import parse_names


@dataclass(frozen=True)
class Arch:
    """One --arch value."""

    name: str
    """Ours, the --arch value (i386-pae is kunit arch i386 with PAE on, ...)."""
    kunit_arch: str
    """What kunit.py --arch gets."""
    cross: str
    """CROSS_COMPILE prefix ('' = host gcc)."""
    packages: tuple[str, ...]
    """Debian packages needed for the compiler and qemu."""
    qemu: str
    """Emulator binary that must exist ('' for UML)."""
    kconfig: tuple[str, ...]
    """Extra --kconfig_add lines."""
    qemu_args: tuple[str, ...]
    """Extra --qemu_args (each one string, split by kunit.py)."""
    kernel_args: tuple[str, ...]
    """Extra --kernel_args."""
    expect_log: tuple[str, ...]
    """Regexes (re.M) the boot log must match, or the run fails: proof that
    the arch's page-table setup is the one this entry is for."""
    kconfig_if: tuple[tuple[str, str, str], ...] = ()
    """(file, regex, line): --kconfig_add line only on a tree whose file
    matches regex (an option some kernels need, others lack)."""
    dt_cpu: tuple[tuple[str, str], ...] = ()
    """(property, string) pairs set in every /cpus/cpu@N node of the QEMU
    board's own device tree, booted with -dtb (see TCG_WRAPPER)."""
    build: str = ''
    """Name of the build dir when arches boot one kernel in different modes
    (same kconfig, other qemu or kernel args); '' = its own, under name."""

    @property
    def build_name(self):
        return self.build or self.name


# kunit.py gives qemu 1024 MiB; leave the top 64 MiB without struct pages
# for the suite's vmap_pfn() case.  RAM starts at 0 on x86, at 1 GiB on the
# arm/arm64 virt machine.
SPARE_RAM = ('mem=896M', 'vmalloc_sync_kunit.spare_ram=0x3c000000')
SPARE_RAM_VIRT = ('mem=896M', 'vmalloc_sync_kunit.spare_ram=0x7c000000')
# riscv64 virt: RAM at 2 GiB
SPARE_RAM_RISCV = ('mem=896M', 'vmalloc_sync_kunit.spare_ram=0xbc000000')
_ARCHES = (
    Arch(name='um', kunit_arch='um', cross='', packages=(), qemu='',
         kconfig=(), qemu_args=(), kernel_args=(),
         expect_log=(r'vmalloc_sync: \d-level kernel page tables, ARCH_PAGE_TABLE_SYNC_MASK 0x0$',)),
    Arch(name='i386', kunit_arch='i386', cross='', packages=('qemu-system-x86',),
         qemu='qemu-system-i386',
         kconfig=(),
         qemu_args=(), kernel_args=SPARE_RAM,
         expect_log=(r'vmalloc_sync: 2-level .*SYNC_MASK 0x8$',)),
    Arch(name='x86_64', kunit_arch='x86_64', cross='', packages=('qemu-system-x86',),
         qemu='qemu-system-x86_64',
         kconfig=(),
         qemu_args=(), kernel_args=SPARE_RAM,
         expect_log=(r'vmalloc_sync: 4-level .*SYNC_MASK 0x2$',)),
    # PAE syncs PMDs only while PTI keeps kernel PMDs per-pgd (6.1, 6.12);
    # -cpu max has MTRRs, without which x86 refuses huge ioremaps
    Arch(name='i386-pae', kunit_arch='i386', cross='', packages=('qemu-system-x86',),
         qemu='qemu-system-i386',
         kconfig=('CONFIG_X86_PAE=y',), qemu_args=('-cpu max',),
         # 6.1: X86_PAE depends on !HIGHMEM4G, the default;
         # 7.2 has no HIGHMEM64G any more
         kconfig_if=(('arch/x86/Kconfig',
                     r'config X86_PAE\n.*\n\tdepends on X86_32 && !HIGHMEM4G\n',
                     'CONFIG_HIGHMEM64G=y'),),
         kernel_args=SPARE_RAM + ('pti=on',),
         expect_log=(r'vmalloc_sync: 3-level .*SYNC_MASK 0x8$',)),
    Arch(name='x86_64-la57', kunit_arch='x86_64', cross='',
         packages=('qemu-system-x86',),
         qemu='qemu-system-x86_64',
         kconfig=(),
         qemu_args=('-cpu max,+la57',),
         kernel_args=SPARE_RAM,
         expect_log=(r'vmalloc_sync: 5-level .*SYNC_MASK 0x1$',),
         build='x86_64'),
    # non-LPAE with VMAP_STACK (kunit.py's arm defaults): syncs PMDs lazily
    Arch(name='arm', kunit_arch='arm', cross='arm-linux-gnueabihf-',
         packages=('gcc-arm-linux-gnueabihf', 'qemu-system-arm'),
         qemu='qemu-system-arm',
         kconfig=(),
         qemu_args=(), kernel_args=SPARE_RAM_VIRT,
         expect_log=(r'vmalloc_sync: 2-level .*SYNC_MASK 0x8$',)),
    # the same with two CPUs: an mm running on one CPU misses the entries of
    # a task stack that the other CPU allocates, until the switch to the task.
    # A task that dies in that switch holds its CPU's runqueue lock, and the
    # other CPU waits for it for good: an oops stops the kernel at once.
    Arch(name='arm-smp', kunit_arch='arm', cross='arm-linux-gnueabihf-',
         packages=('gcc-arm-linux-gnueabihf', 'qemu-system-arm'),
         qemu='qemu-system-arm',
         kconfig=('CONFIG_SMP=y',),
         qemu_args=('-smp 2',),
         kernel_args=SPARE_RAM_VIRT + ('oops=panic', 'panic=-1'),
         expect_log=(r'vmalloc_sync: 2-level .*SYNC_MASK 0x8$',
                     r'smp: Brought up 1 node, 2 CPUs$')),
    Arch(name='arm64', kunit_arch='arm64', cross='aarch64-linux-gnu-',
         packages=('gcc-aarch64-linux-gnu', 'qemu-system-arm'),
         qemu='qemu-system-aarch64',
         kconfig=(), qemu_args=(), kernel_args=SPARE_RAM_VIRT,
         expect_log=(r'vmalloc_sync: \d-level kernel page tables, ARCH_PAGE_TABLE_SYNC_MASK 0x0$',)),
) + tuple(
    # One kernel, three paging modes: riscv64 picks the deepest the CPU has
    # (QEMU's rv64: Sv57) unless the command line caps it.  7.2 (not 6.12)
    # also caps it by the device tree's mmu-type, which bookworm's QEMU 7.2
    # writes as riscv,sv48 whatever the CPU: Sv57 boots the board's tree with
    # riscv,sv57.  riscv64 preallocates the top level of vmalloc space (and
    # syncs nothing).
    Arch(name='riscv64-' + mode, kunit_arch='riscv', cross='riscv64-linux-gnu-',
         packages=('gcc-riscv64-linux-gnu', 'qemu-system-misc', 'device-tree-compiler'),
         qemu='qemu-system-riscv64',
         kconfig=(), qemu_args=(), kernel_args=SPARE_RAM_RISCV + cap,
         expect_log=(r'vmalloc_sync: %d-level kernel page tables, ARCH_PAGE_TABLE_SYNC_MASK 0x0$'
                     % levels,),
         dt_cpu=dt_cpu, build='riscv64')
    for mode, levels, cap, dt_cpu in (
        ('sv39', 3, ('no4lvl',), ()),
        ('sv48', 4, ('no5lvl',), ()),
        ('sv57', 5, (), (('mmu-type', 'riscv,sv57'),))))
ARCHES = {a.name: a for a in _ARCHES}


def parse_arches(spec):
    return parse_names(spec, ARCHES, 'arch')
