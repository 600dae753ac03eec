"""`run --pid/--tid/--uid/--comm/--cgroup`: filters the package declares, filled from user space.

The kernel side of a filter is the tool's own: a `const volatile` global it compares with
(`targ_pid`), or, for a cgroup, a flag and a cgroup array map it asks
`bpf_current_task_under_cgroup()` about. Only user space can fill that map (with the
directory's descriptor), so a run that set the flag and left the map empty would filter
nothing, silently. Here each option becomes what its declaration names (ebpf_hub.model.modes),
and an option the package does not declare is refused rather than ignored.
"""

from __future__ import annotations

import pwd
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ebpf_hub.errors import HubError
from ebpf_hub.model.modes import FILTER_OPTIONS, Choices
from ebpf_hub.run.params import Assignment
from ebpf_hub.safetext import quote

_MOUNTS: Final = "/proc/self/mounts"


@dataclass(frozen=True)
class FilterValues:
    """The filter options as given on the command line (None: not given)."""

    pid: str | None = None
    tid: str | None = None
    uid: str | None = None
    comm: str | None = None
    cgroup: str | None = None

    def given(self) -> Iterator[tuple[str, str]]:
        for option in FILTER_OPTIONS:
            value = getattr(self, option)
            if value is not None:
                yield option, value


@dataclass(frozen=True)
class FilterPlan:
    """What the given filters set: globals (written like `--param`) and cgroup array maps
    to fill with the `cgroup` directory after load."""

    assignments: tuple[Assignment, ...] = ()
    cgroup_maps: tuple[str, ...] = ()
    cgroup: str | None = None


def plan_filters(
    label: str, choices: Choices, values: FilterValues, cgroup_attach: bool
) -> FilterPlan:
    """The plan for `values`; an option the package does not declare is refused, except
    `--cgroup` where it names the cgroup that cgroup programs attach to (`cgroup_attach`)."""
    assignments: list[Assignment] = []
    maps: list[str] = []
    for option, text in values.given():
        declared = choices.filter(option)
        if declared is None:
            if option == "cgroup" and cgroup_attach:
                continue
            raise HubError(_undeclared(label, option, choices))
        if declared.global_name is not None:
            assignments.append((declared.global_name, _value(option, text)))
        if declared.map is not None:
            maps.append(declared.map)
    cgroup = values.cgroup if maps else None
    if cgroup is not None:
        _check_cgroup2(cgroup)
    return FilterPlan(tuple(assignments), tuple(maps), cgroup)


def _check_cgroup2(directory: str) -> None:
    """Refuse a `--cgroup` that is not a directory of a cgroup v2 hierarchy (the kernel's
    answer, EBADF, would say nothing of the cause)."""
    path = Path(directory).resolve()
    mounts = [line.split()[1:3] for line in Path(_MOUNTS).read_text().splitlines()]
    within = [(mnt, fstype) for mnt, fstype in mounts if path.is_relative_to(mnt)]
    fstype = max(within, key=lambda mount: len(mount[0]))[1] if within else ""
    if path.is_dir() and fstype == "cgroup2":
        return
    roots = ", ".join(mnt for mnt, fstype in mounts if fstype == "cgroup2") or "none mounted"
    raise HubError(
        f"--cgroup {quote(directory)}: not a directory of the cgroup v2 hierarchy",
        hint=f"give a directory under its mount point ({roots})",
    )


def _undeclared(label: str, option: str, choices: Choices) -> str:
    supported = ", ".join(f"--{name}" for name in FILTER_OPTIONS if choices.filter(name))
    what = f"it supports: {supported}" if supported else "it declares no filters"
    return f"{label} does not filter by --{option}; {what}"


def _value(option: str, text: str) -> str:
    """The global's value for `option` given as `text`, in the form `--param` takes."""
    if option == "cgroup":
        return "1"
    if option == "comm":
        return text
    if option == "uid" and not text.isdigit():
        try:
            return str(pwd.getpwnam(text).pw_uid)
        except KeyError:
            raise HubError(f"--uid {quote(text)}: no such user", hint="give a user ID") from None
    if not text.isdigit() or (int(text) == 0 and option != "uid"):  # 0: every process
        raise HubError(f"--{option} {quote(text)}: not a positive number")
    return text


def refuse_overlap(plan: FilterPlan, assignments: Sequence[Assignment]) -> None:
    """A global set both by a filter option and by `--param`: which one was meant is not
    for the runner to guess."""
    by_filter = {name for name, _ in plan.assignments}
    for name, _ in assignments:
        if name in by_filter:
            raise HubError(
                f"{name} is set twice: by a filter option (--pid, --comm...) and as a parameter",
                hint="give it once",
            )
