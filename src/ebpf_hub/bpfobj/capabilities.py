"""What an object can do to the system, judged by the calls in its bytecode alone.

A BPF program changes the system only through the functions it calls: helpers (by number,
see :mod:`.helpers`) and kfuncs (kernel functions, by name). This module holds the one table
of the calls that do more than observe, with what each does, and classifies the calls an
object makes. The package schema's ``permissions.helpers`` list and ``permissions.kfuncs``
examples are this table (a test checks it); the build refuses a call the metadata does not
declare; the client shows what the objects it is about to run call.

Helpers are a closed set (the kernel froze the list), so a helper is dangerous only if the
table says so, and an id past the list (``unknown_helper_N``) is dangerous. Kfuncs are an
open set that grows with every kernel, so a kfunc is safe only if the table says so: one it
does not know counts as dangerous until someone classifies it here.

The other half of the truth is the kind of hook a program attaches to (:mod:`.kinds`): an
``fmod_ret``, LSM or XDP program changes the system with no call at all. Both are
:class:`Danger` s, so every place that shows or checks one shows or checks the other.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple, Protocol

from .helpers import HELPER_NAMES
from .kinds import HOOK_KINDS, UNPUBLISHABLE, section_effect
from .objcalls import object_calls
from .programs import ProgramInfo

_PACKETS_REWRITE = "rewrites the bytes of packets"
_PACKETS_LAYOUT = "changes the size, headers or encapsulation of packets"
_PACKETS_REDIRECT = "sends packets to another interface, CPU or socket"
_SOCKET_STEER = "moves socket traffic to another socket"
_INPUT = "injects input events (key presses, pointer moves)"

#: Helpers that change the system rather than observe it, and what each does: a package
#: declares them in permissions.helpers. bpf_d_path and bpf_copy_from_user* are left out:
#: they only read, as bpf_probe_read_* already can.
DANGEROUS_HELPERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "bpf_probe_write_user": "writes into the memory of running processes",
        "bpf_override_return": "changes the return value of kernel functions",
        "bpf_send_signal": "sends signals to processes",
        "bpf_send_signal_thread": "sends signals to threads",
        "bpf_sys_bpf": "makes bpf() system calls from inside the kernel",
        "bpf_sys_close": "closes file descriptors of the process that loads it",
        "bpf_set_retval": "changes the return value of system calls",
        "bpf_sysctl_set_new_value": "changes the value written to a sysctl",
        "bpf_bprm_opts_set": "changes how a new program is executed",
        "bpf_setsockopt": "changes the options of sockets",
        "bpf_bind": "binds sockets to addresses",
        "bpf_tcp_send_ack": "sends TCP acknowledgements",
        "bpf_store_hdr_opt": "writes TCP header options",
        "bpf_skb_store_bytes": _PACKETS_REWRITE,
        "bpf_xdp_store_bytes": _PACKETS_REWRITE,
        "bpf_l3_csum_replace": _PACKETS_REWRITE,
        "bpf_l4_csum_replace": _PACKETS_REWRITE,
        "bpf_msg_push_data": _PACKETS_REWRITE,
        "bpf_msg_pop_data": _PACKETS_REWRITE,
        "bpf_xdp_adjust_head": "grows or shrinks packets at the driver",
        "bpf_xdp_adjust_tail": "grows or shrinks packets at the driver",
        "bpf_skb_change_head": _PACKETS_LAYOUT,
        "bpf_skb_change_tail": _PACKETS_LAYOUT,
        "bpf_skb_change_proto": _PACKETS_LAYOUT,
        "bpf_skb_change_type": _PACKETS_LAYOUT,
        "bpf_skb_adjust_room": _PACKETS_LAYOUT,
        "bpf_skb_vlan_push": _PACKETS_LAYOUT,
        "bpf_skb_vlan_pop": _PACKETS_LAYOUT,
        "bpf_skb_set_tunnel_key": _PACKETS_LAYOUT,
        "bpf_skb_set_tunnel_opt": _PACKETS_LAYOUT,
        "bpf_lwt_push_encap": _PACKETS_LAYOUT,
        "bpf_lwt_seg6_store_bytes": _PACKETS_LAYOUT,
        "bpf_lwt_seg6_adjust_srh": _PACKETS_LAYOUT,
        "bpf_lwt_seg6_action": _PACKETS_LAYOUT,
        "bpf_redirect": _PACKETS_REDIRECT,
        "bpf_redirect_map": _PACKETS_REDIRECT,
        "bpf_redirect_neigh": _PACKETS_REDIRECT,
        "bpf_redirect_peer": _PACKETS_REDIRECT,
        "bpf_clone_redirect": _PACKETS_REDIRECT,
        "bpf_sk_assign": _PACKETS_REDIRECT,
        "bpf_sk_select_reuseport": _PACKETS_REDIRECT,
        "bpf_sk_redirect_map": _SOCKET_STEER,
        "bpf_sk_redirect_hash": _SOCKET_STEER,
        "bpf_msg_redirect_map": _SOCKET_STEER,
        "bpf_msg_redirect_hash": _SOCKET_STEER,
        "bpf_sock_map_update": _SOCKET_STEER,
        "bpf_sock_hash_update": _SOCKET_STEER,
        "bpf_rc_keydown": _INPUT,
        "bpf_rc_repeat": _INPUT,
        "bpf_rc_pointer_rel": _INPUT,
    }
)

_CONNTRACK = "changes the kernel's connection tracking (firewall and NAT state)"

#: Kfuncs that change the system, and what each does: a package declares them in
#: permissions.kfuncs. Names are libbpf's essential names (``bpf_x___v2`` calls bpf_x).
DANGEROUS_KFUNCS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "bpf_send_signal_task": "sends signals to processes",
        "bpf_task_work_schedule_signal_impl": "runs its code inside other processes",
        "bpf_task_work_schedule_resume_impl": "runs its code inside other processes",
        "bpf_sock_destroy": "closes the network connections of processes",
        "bpf_sk_assign_tcp_reqsk": "accepts TCP connections on behalf of a socket",
        "bpf_sock_addr_set_sun_path": "changes the Unix socket path a process connects to",
        "bpf_sock_ops_enable_tx_tstamp": "turns on transmit timestamps of sockets",
        "bpf_set_dentry_xattr": "writes extended attributes of files",
        "bpf_remove_dentry_xattr": "removes extended attributes of files",
        "bpf_skb_ct_alloc": _CONNTRACK,
        "bpf_xdp_ct_alloc": _CONNTRACK,
        "bpf_ct_insert_entry": _CONNTRACK,
        "bpf_ct_set_timeout": _CONNTRACK,
        "bpf_ct_change_timeout": _CONNTRACK,
        "bpf_ct_set_status": _CONNTRACK,
        "bpf_ct_change_status": _CONNTRACK,
        "bpf_ct_set_nat_info": _CONNTRACK,
        # a looked-up entry's mark is writable through the returned pointer
        "bpf_skb_ct_lookup": _CONNTRACK,
        "bpf_xdp_ct_lookup": _CONNTRACK,
        "bpf_skb_set_fou_encap": _PACKETS_LAYOUT,
        "bpf_skb_set_xfrm_info": "changes the IPsec (xfrm) state of packets",
        "hid_bpf_hw_request": "sends requests to input devices (keyboards, mice)",
        "hid_bpf_hw_output_report": "sends reports to input devices (keyboards, mice)",
        "hid_bpf_input_report": _INPUT,
    }
)

#: Every dangerous call by name; helper and kfunc names never collide (a test checks it).
DANGEROUS_CALLS: Final[Mapping[str, str]] = MappingProxyType(
    {**DANGEROUS_HELPERS, **DANGEROUS_KFUNCS}
)


def _names(words: str, prefix: str = "") -> frozenset[str]:
    """Names from a whitespace-separated list, each after ``prefix``: a family per line."""
    return frozenset(prefix + word for word in words.split())


#: Kfuncs that read process memory, like bpf_probe_read_user: shown, not dangerous.
_USER_MEMORY_KFUNCS = _names(
    """
    str task_str dynptr str_dynptr task_dynptr task_str_dynptr
    """,
    prefix="bpf_copy_from_user_",
) | _names("bpf_probe_read_user_dynptr bpf_probe_read_user_str_dynptr")

#: Kfuncs that observe, or manage what the program owns (references, locks, its own
#: allocations, iterators, strings). The dynptr and packet kfuncs write packets only where
#: the hook lets a program write packets anyway (XDP, TC).
SAFE_KFUNCS: Final = (
    _names(
        """
        bpf_rcu_read_lock bpf_rcu_read_unlock bpf_preempt_disable bpf_preempt_enable
        bpf_local_irq_save bpf_local_irq_restore bpf_res_spin_lock bpf_res_spin_unlock
        bpf_res_spin_lock_irqsave bpf_res_spin_unlock_irqrestore
        bpf_task_acquire bpf_task_release bpf_task_from_pid bpf_task_from_vpid
        bpf_task_under_cgroup bpf_task_get_cgroup1
        bpf_cgroup_acquire bpf_cgroup_release bpf_cgroup_ancestor bpf_cgroup_from_id
        bpf_get_task_exe_file bpf_put_file bpf_path_d_path
        bpf_get_file_xattr bpf_get_dentry_xattr bpf_cgroup_read_xattr
        bpf_probe_read_kernel_dynptr bpf_probe_read_kernel_str_dynptr
        bpf_obj_new_impl bpf_obj_drop_impl bpf_percpu_obj_new_impl bpf_percpu_obj_drop_impl
        bpf_refcount_acquire_impl bpf_list_push_front_impl bpf_list_push_back_impl
        bpf_list_pop_front bpf_list_pop_back bpf_list_front bpf_list_back
        bpf_rbtree_add_impl bpf_rbtree_remove bpf_rbtree_first bpf_rbtree_root
        bpf_rbtree_left bpf_rbtree_right bpf_cast_to_kern_ctx bpf_rdonly_cast
        bpf_map_sum_elem_count bpf_session_cookie bpf_session_is_return bpf_get_kmem_cache
        bpf_throw __bpf_trap bpf_stream_vprintk_impl bpf_wq_init bpf_wq_set_callback_impl
        bpf_wq_start bpf_arena_alloc_pages bpf_arena_free_pages bpf_arena_reserve_pages
        bpf_xdp_metadata_rx_hash bpf_xdp_metadata_rx_timestamp bpf_xdp_metadata_rx_vlan_tag
        bpf_xdp_get_xfrm_state bpf_xdp_xfrm_state_release bpf_xdp_pull_data bpf_ct_release
        bpf_crypto_ctx_create bpf_crypto_ctx_acquire bpf_crypto_ctx_release
        bpf_crypto_encrypt bpf_crypto_decrypt bpf_lookup_user_key bpf_lookup_system_key
        bpf_key_put bpf_verify_pkcs7_signature bpf_get_fsverity_digest
        """
    )
    | _names(
        """
        adjust clone copy is_null is_rdonly size slice slice_rdwr memset
        from_skb from_xdp from_skb_meta
        """,
        prefix="bpf_dynptr_",
    )
    | _names("cmp casecmp chr chrnul nchr rchr len nlen spn cspn str nstr", prefix="bpf_str")
    | _names(
        """
        create acquire release first first_zero first_and set_cpu clear_cpu test_cpu
        test_and_set_cpu test_and_clear_cpu setall clear and or xor equal intersects subset
        empty full copy any_distribute any_and_distribute weight populate
        """,
        prefix="bpf_cpumask_",
    )
    | frozenset(
        f"bpf_iter_{kind}_{step}"
        for kind in _names("num task task_vma css css_task bits kmem_cache dmabuf")
        for step in ("new", "next", "destroy")
    )
    | _USER_MEMORY_KFUNCS
)

#: Calls that read the memory of processes (arguments, strings): shown before a run.
USER_MEMORY_READERS: Final = _USER_MEMORY_KFUNCS | {
    "bpf_probe_read_user",
    "bpf_probe_read_user_str",
    "bpf_copy_from_user",
    "bpf_copy_from_user_task",
}

_KNOWN_HELPERS: Final = frozenset(HELPER_NAMES)
_UNCLASSIFIED: Final = {
    "helper": "may change the system (a helper id eBPF Hub does not know)",
    "kfunc": "may change the system (a kfunc eBPF Hub has not classified yet)",
}


class Danger(NamedTuple):
    """One way of changing the system: a call, or a kind of hook, with what it does (one the
    tables do not know says so)."""

    name: str
    kind: Literal["helper", "kfunc", "hook"]
    effect: str

    @property
    def permission(self) -> str:
        """The permissions key that declares it: ``helpers``, ``kfuncs`` or ``attach``."""
        return "attach" if self.kind == "hook" else f"{self.kind}s"

    @property
    def action(self) -> str:
        """What a program does to it, for sentences: ``call`` it or ``attach to`` it."""
        return "attach to" if self.kind == "hook" else "call"

    def to_json(self) -> dict[str, str]:
        """The danger for ``--json`` output."""
        return {"name": self.name, "kind": self.kind, "effect": self.effect}


def _helper_danger(name: str) -> Danger | None:
    if name in DANGEROUS_HELPERS:
        return Danger(name, "helper", DANGEROUS_HELPERS[name])
    if name in _KNOWN_HELPERS:
        return None
    return Danger(name, "helper", _UNCLASSIFIED["helper"])


def _kfunc_danger(name: str) -> Danger | None:
    if name in DANGEROUS_KFUNCS:
        return Danger(name, "kfunc", DANGEROUS_KFUNCS[name])
    if name in SAFE_KFUNCS:
        return None
    return Danger(name, "kfunc", _UNCLASSIFIED["kfunc"])


def dangers(helpers: Iterable[str], kfuncs: Iterable[str]) -> tuple[Danger, ...]:
    """The dangerous ones among these calls, by name."""
    found = [_helper_danger(name) for name in set(helpers)]
    found += [_kfunc_danger(name) for name in set(kfuncs)]
    return tuple(sorted((d for d in found if d is not None), key=lambda d: d.name))


def hook_dangers(section_kinds: Iterable[str]) -> tuple[Danger, ...]:
    """The hooks among these libbpf section kinds that do more than observe, by name."""
    found = {section_effect(kind) for kind in section_kinds}
    hooks = (Danger(name, "hook", effect) for name, effect in found if effect is not None)
    return tuple(sorted(hooks, key=lambda d: d.name))


class Declared(Protocol):
    """What a package's ``permissions`` declare (``ebpf_hub.model.package.Permissions``): the
    hook kinds, and the dangerous helpers and kfuncs its programs call."""

    @property
    def attach(self) -> tuple[str, ...]: ...
    @property
    def helpers(self) -> tuple[str, ...]: ...
    @property
    def kfuncs(self) -> tuple[str, ...]: ...


def declared_dangers(permissions: Declared) -> tuple[Danger, ...]:
    """The dangerous calls a package's ``permissions`` declare (what its metadata claims)."""
    return dangers(permissions.helpers, permissions.kfuncs)


def declared_hooks(permissions: Declared) -> tuple[Danger, ...]:
    """The hooks that change the system among those ``permissions.attach`` declares; a name
    the table does not know (metadata that skipped validation) counts as one."""
    found = []
    for name in permissions.attach:
        kind = HOOK_KINDS.get(name)
        effect = kind.effect if kind else UNPUBLISHABLE
        if effect is not None:
            found.append(Danger(name, "hook", effect))
    return tuple(found)


def undeclared(found: Iterable[Danger], permissions: Declared) -> tuple[Danger, ...]:
    """The dangers in ``found`` that ``permissions`` do not declare."""
    declared: dict[str, Collection[str]] = {
        "helpers": permissions.helpers,
        "kfuncs": permissions.kfuncs,
        "attach": permissions.attach,
    }
    return tuple(d for d in found if d.name not in declared[d.permission])


class Capabilities(NamedTuple):
    """What a set of objects can do, from their code: the truth a user is shown.

    ``dangers`` (calls) come from every function of every object, whether a program's call
    graph reaches it or not; ``hooks`` from the sections of the programs; ``kernel_variables``
    are the ``__ksym`` variables the code reads.
    """

    dangers: tuple[Danger, ...]
    hooks: tuple[Danger, ...]
    reads_user_memory: bool
    kernel_variables: tuple[str, ...]

    def everything(self) -> tuple[Danger, ...]:
        """Every way these objects change the system: hooks, then calls."""
        return self.hooks + self.dangers

    def gained(self, before: Capabilities) -> tuple[Danger, ...]:
        """What these objects can do that ``before`` (an older version's) could not."""
        known = {(d.kind, d.name) for d in before.everything()}
        return tuple(d for d in self.everything() if (d.kind, d.name) not in known)

    def to_json(self) -> dict[str, Any]:
        """The capabilities for ``--json`` output."""
        return {
            "hooks": [danger.to_json() for danger in self.hooks],
            "calls": [danger.to_json() for danger in self.dangers],
            "reads_user_memory": self.reads_user_memory,
            "kernel_variables": list(self.kernel_variables),
        }


class CallsOf(Protocol):
    """What :func:`capabilities` reads of an object: an :class:`.objcalls.ObjectCalls`, or an
    :class:`.inspect.ObjectInfo` where the caller has one already."""

    @property
    def programs(self) -> tuple[ProgramInfo, ...]: ...
    @property
    def helpers(self) -> tuple[str, ...]: ...
    @property
    def kfuncs(self) -> tuple[str, ...]: ...
    @property
    def kernel_variables(self) -> tuple[str, ...]: ...


def object_capabilities(paths: Iterable[str | os.PathLike[str]]) -> Capabilities:
    """What the objects at ``paths`` can do, read from their bytes (never from a claim)."""
    return capabilities(object_calls(path) for path in paths)


def capabilities(objects: Iterable[CallsOf]) -> Capabilities:
    """What ``objects`` can do, together."""
    objects = list(objects)
    helpers = {name for info in objects for name in info.helpers}
    kfuncs = {name for info in objects for name in info.kfuncs}
    return Capabilities(
        dangers=dangers(helpers, kfuncs),
        hooks=hook_dangers(p.kind for info in objects for p in info.programs if p.kind),
        reads_user_memory=bool((helpers | kfuncs) & USER_MEMORY_READERS),
        kernel_variables=tuple(sorted({v for info in objects for v in info.kernel_variables})),
    )


_HIDDEN: Final = " (the package does not declare it)"


def dangerous_calls(dangers: Sequence[Danger], permissions: Declared | None) -> list[str]:
    """Each of ``dangers`` (calls or hooks) as 'NAME, which EFFECT', marked when the
    package's ``permissions`` (None: no metadata to compare with) do not declare it."""
    hidden = set(undeclared(dangers, permissions)) if permissions is not None else set()
    return [f"{d.name}, which {d.effect}" + (_HIDDEN if d in hidden else "") for d in dangers]


def actions(dangers: Sequence[Danger], permissions: Declared | None) -> list[str]:
    """Each of ``dangers`` as a sentence's verb and object: 'attach to fmod_ret, which ...',
    'call bpf_send_signal, which ...', marked as :func:`dangerous_calls` marks them."""
    texts = dangerous_calls(dangers, permissions)
    return [f"{d.action} {text}" for d, text in zip(dangers, texts)]
