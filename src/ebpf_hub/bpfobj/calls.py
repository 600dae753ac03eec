"""Find what a program calls by reading its bytecode: helpers, kfuncs and subprograms.

Rules, as libbpf applies them to an object fresh from clang (before it rewrites anything):

* ``call`` (BPF_JMP|BPF_CALL) with a relocation against an undefined symbol calls a kfunc of
  that name (libbpf's essential name: ``bpf_x___flavour`` calls ``bpf_x``), whatever its
  src_reg and whether the extern is ``__weak``; against a function symbol it calls a
  subprogram at instruction ``symbol.value / 8 + imm + 1`` of the symbol's section (``.text``);
* ``call`` without a relocation and src_reg 1 (BPF_PSEUDO_CALL) calls the ``.text``
  subprogram at ``pc + imm + 1``, pc counted in the caller's own section (libbpf looks it up
  in ``.text`` whatever section the caller is in); with src_reg 0 it calls helper ``imm``;
* ``ld_imm64`` with a relocation into an executable section takes the address of a
  subprogram (a callback for bpf_loop, bpf_for_each_map_elem...) at
  ``(symbol.value + imm) / 8``; without one but with src_reg 4 (BPF_PSEUDO_FUNC), of the
  ``.text`` subprogram at ``pc + imm + 1``. The callback runs as part of the program, so it
  counts.

Whatever a subprogram calls is attributed to every program that reaches it. Code can also
run without any reference a scanner can follow (libbpf appends an exception callback named
only in BTF), so :meth:`CallGraph.everything` collects the calls of every function as well.
"""

from __future__ import annotations

import bisect
import struct
from typing import Final, NamedTuple

from .elf import ElfObject, ElfSymbol
from .errors import ObjectError

_INSN: Final = struct.Struct("<BBhi")
_CALL: Final = 0x85  # BPF_JMP | BPF_CALL
_LD_IMM64: Final = 0x18  # BPF_LD | BPF_IMM | BPF_DW
_SRC_HELPER: Final = 0
_SRC_PSEUDO_CALL: Final = 1
_SRC_PSEUDO_FUNC: Final = 4
_TEXT: Final = ".text"


def essential_name(name: str) -> str:
    """The kfunc an extern calls: libbpf ignores a flavour suffix ``___Y`` after ``X``.

    The same rule as libbpf's bpf_core_essential_name_len(): the last ``X___Y`` with X and
    Y not underscores ends the name at X.
    """
    for end in range(len(name) - 5, -1, -1):
        if name[end] != "_" and name[end + 1 : end + 4] == "___" and name[end + 4] != "_":
            return name[: end + 1]
    return name


class Function(NamedTuple):
    """A function symbol's instructions: indexes ``start`` to ``end`` of its section."""

    name: str
    section: int
    start: int
    end: int


class Calls(NamedTuple):
    """What a function calls, directly or (from :meth:`CallGraph.reachable`) transitively."""

    helpers: frozenset[int]
    kfuncs: frozenset[str]
    functions: frozenset[Function]


class CallGraph:
    """The functions of an object's executable sections and the calls between them."""

    def __init__(self, elf: ElfObject) -> None:
        """Collect function symbols per section; instructions are decoded on demand."""
        self._elf = elf
        self._insns: dict[int, list[tuple[int, int, int, int]]] = {}
        self._direct: dict[Function, Calls] = {}
        self._functions: dict[int, list[Function]] = {}
        text = elf.section(_TEXT)
        self._text = text.index if text else None
        for symbol in elf.symbols:
            if symbol.type == "STT_FUNC" and symbol.section is not None:
                function = self._function(symbol, symbol.section)
                self._functions.setdefault(symbol.section, []).append(function)
        for functions in self._functions.values():
            functions.sort(key=lambda f: f.start)

    def _function(self, symbol: ElfSymbol, section: int) -> Function:
        start = symbol.value // _INSN.size
        function = Function(symbol.name, section, start, start + symbol.size // _INSN.size)
        if function.end > len(self._instructions(section)):
            raise ObjectError(f"function {symbol.name} extends past the end of its section")
        return function

    def functions_in(self, section: int) -> list[Function]:
        """The functions defined in section index ``section``, by position."""
        return self._functions.get(section, [])

    def _instructions(self, section: int) -> list[tuple[int, int, int, int]]:
        if section not in self._insns:
            data = self._elf.sections[section].data
            if len(data) % _INSN.size:
                raise ObjectError(f"section {self._elf.sections[section].name} is not bytecode")
            self._insns[section] = list(_INSN.iter_unpack(data))
        return self._insns[section]

    def _function_at(self, section: int, index: int) -> Function:
        functions = self.functions_in(section)
        at = bisect.bisect_right([f.start for f in functions], index) - 1
        if at < 0 or index >= functions[at].end:
            name = self._elf.sections[section].name
            raise ObjectError(f"call to instruction {index} of {name}, which no function holds")
        return functions[at]

    def direct(self, function: Function) -> Calls:
        """What ``function``'s own instructions call."""
        if function not in self._direct:
            self._direct[function] = self._scan(function)
        return self._direct[function]

    def _scan(self, function: Function) -> Calls:
        insns = self._instructions(function.section)
        relocations = self._elf.relocations.get(function.section, {})
        helpers: set[int] = set()
        kfuncs: set[str] = set()
        callees: set[Function] = set()
        for index in range(function.start, function.end):
            code, regs, _offset, imm = insns[index]
            if code not in (_CALL, _LD_IMM64):
                continue
            symbol = relocations.get(index * _INSN.size)
            if code == _LD_IMM64:
                if symbol and symbol.section is not None and self._is_code(symbol.section):
                    target = (symbol.value + imm) // _INSN.size
                    callees.add(self._function_at(symbol.section, target))
                elif symbol is None and regs >> 4 == _SRC_PSEUDO_FUNC:
                    callees.add(self._text_function_at(index + imm + 1))
            elif symbol is not None:
                if symbol.section is None:
                    kfuncs.add(essential_name(symbol.name))
                else:
                    target = symbol.value // _INSN.size + imm + 1
                    callees.add(self._function_at(symbol.section, target))
            elif regs >> 4 == _SRC_PSEUDO_CALL:
                callees.add(self._text_function_at(index + imm + 1))
            elif regs >> 4 == _SRC_HELPER:
                helpers.add(imm)
            else:
                raise ObjectError(
                    f"{function.name}: call at instruction {index - function.start} has "
                    f"src_reg {regs >> 4} and no relocation"
                )
        return Calls(frozenset(helpers), frozenset(kfuncs), frozenset(callees))

    def _text_function_at(self, index: int) -> Function:
        if self._text is None:
            raise ObjectError("a subprogram call without a relocation, and no .text section")
        return self._function_at(self._text, index)

    def _is_code(self, section: int) -> bool:
        return self._elf.sections[section].executable

    def reachable(self, entry: Function) -> Calls:
        """Everything ``entry`` calls, following subprogram calls; ``functions`` excludes it."""
        seen, todo = {entry}, [entry]
        helpers: set[int] = set()
        kfuncs: set[str] = set()
        while todo:
            calls = self.direct(todo.pop())
            helpers |= calls.helpers
            kfuncs |= calls.kfuncs
            todo.extend(calls.functions - seen)
            seen |= calls.functions
        return Calls(frozenset(helpers), frozenset(kfuncs), frozenset(seen - {entry}))

    def everything(self) -> Calls:
        """The calls of every function in an executable section, reached by a program or not."""
        functions = [
            function
            for section, found in self._functions.items()
            if self._is_code(section)
            for function in found
        ]
        calls = [self.direct(function) for function in functions]
        return Calls(
            frozenset().union(*(c.helpers for c in calls)),
            frozenset().union(*(c.kfuncs for c in calls)),
            frozenset(functions),
        )
