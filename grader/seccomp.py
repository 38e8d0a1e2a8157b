"""The sandbox's seccomp filter: a classic-BPF program handed to bubblewrap (`--seccomp FD`).

bubblewrap loads the program right before it runs the learner's interpreter. It refuses, with
`EPERM`, the system calls a learner's code has no use for and that can freeze or escape a
sandbox: debugging other processes (`ptrace`, `process_vm_*`, `pidfd_getfd`), kernel
interfaces with a history of privilege bugs (`io_uring_*`, `bpf`, `perf_event_open`,
`userfaultfd`, `keyctl` and friends), and everything that changes mounts, namespaces, modules
or the machine (`mount`, `setns`, `unshare`, `kexec_*`, `reboot`, …). Any other architecture
than the one the filter was built for is killed, so a 32-bit or x32 entry point cannot
bypass it. Reference: seccomp(2), `struct sock_filter` in <linux/filter.h>.
"""

from __future__ import annotations

import errno
import platform
import struct

from grader.errors import SandboxUnavailable

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_NR_OFFSET = 0  # struct seccomp_data.nr
_ARCH_OFFSET = 4  # struct seccomp_data.arch
_X32_BIT = 0x40000000

REFUSED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "process_madvise",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "mount",
    "umount2",
    "pivot_root",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "setns",
    "unshare",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "syslog",
    "name_to_handle_at",
    "open_by_handle_at",
    "fanotify_init",
)

# (AUDIT_ARCH_*, {name: number}) from the kernel's syscall tables.
_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        {
            "ptrace": 101,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "pidfd_getfd": 438,
            "process_madvise": 440,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "bpf": 321,
            "perf_event_open": 298,
            "userfaultfd": 323,
            "keyctl": 250,
            "add_key": 248,
            "request_key": 249,
            "kexec_load": 246,
            "kexec_file_load": 320,
            "init_module": 175,
            "finit_module": 313,
            "delete_module": 176,
            "mount": 165,
            "umount2": 166,
            "pivot_root": 155,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "setns": 308,
            "unshare": 272,
            "swapon": 167,
            "swapoff": 168,
            "reboot": 169,
            "acct": 163,
            "quotactl": 179,
            "syslog": 103,
            "name_to_handle_at": 303,
            "open_by_handle_at": 304,
            "fanotify_init": 300,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "ptrace": 117,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "pidfd_getfd": 438,
            "process_madvise": 440,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "bpf": 280,
            "perf_event_open": 241,
            "userfaultfd": 282,
            "keyctl": 219,
            "add_key": 217,
            "request_key": 218,
            "kexec_load": 104,
            "kexec_file_load": 294,
            "init_module": 105,
            "finit_module": 273,
            "delete_module": 106,
            "mount": 40,
            "umount2": 39,
            "pivot_root": 41,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "setns": 268,
            "unshare": 97,
            "swapon": 224,
            "swapoff": 225,
            "reboot": 142,
            "acct": 89,
            "quotactl": 60,
            "syslog": 116,
            "name_to_handle_at": 264,
            "open_by_handle_at": 265,
            "fanotify_init": 262,
        },
    ),
}


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def filter_program(machine: str | None = None) -> bytes:
    """The compiled filter for this machine's architecture (bytes of `struct sock_filter`)."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        raise SandboxUnavailable(
            f"the grading sandbox has no seccomp filter for the {machine} architecture"
        )
    audit_arch, numbers = _ARCHES[machine]
    nrs = sorted({numbers[name] for name in REFUSED})
    # Layout: arch check (3), load nr (1), x32 check (1, x86_64 only), one JEQ per refused
    # call, ALLOW, then ERRNO(EPERM): every jump lands on the last instruction.
    prog = [
        _insn(_LD_W_ABS, 0, 0, _ARCH_OFFSET),
        _insn(_JEQ_K, 1, 0, audit_arch),
        _insn(_RET_K, 0, 0, _RET_KILL_PROCESS),
        _insn(_LD_W_ABS, 0, 0, _NR_OFFSET),
    ]
    checks: list[tuple[int, int]] = []
    if machine == "x86_64":
        checks.append((_JGE_K, _X32_BIT))
    checks += [(_JEQ_K, nr) for nr in nrs]
    for i, (code, k) in enumerate(checks):
        # Remaining checks after this one, then ALLOW, then the ERRNO return.
        prog.append(_insn(code, len(checks) - i, 0, k))
    prog.append(_insn(_RET_K, 0, 0, _RET_ALLOW))
    prog.append(_insn(_RET_K, 0, 0, _RET_ERRNO | errno.EPERM))
    return b"".join(prog)
