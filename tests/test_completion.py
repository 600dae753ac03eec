"""Shell completion as the shells run it: the script `ebpf-hub completion SHELL` prints is
loaded into a real bash, fish or zsh, which then asks the real `ebpf-hub` for completions.

Package names come from a hub index served over HTTP, fetched once by `search` and `info`
into the user's cache; the server is stopped before any TAB, so every name the shells get
was read from the cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.cli import build_parser, main
from ebpf_hub.commands.completion import COMPLETERS, attach_completers, typed_command
from httpserver import StaticServer
from hubrepo import REPO

BIN = Path(sys.executable).parent  # where the venv's `ebpf-hub` script is
SEED = sorted(path.stem for path in (REPO / "index" / "packages").glob("*.yaml"))

# Load the script, set what bash sets before calling a completion function (COMP_WORDS split
# as bash splits them, at COMP_WORDBREAKS, which holds '@' and ':'), call the function
# `complete -p` names for ebpf-hub, print its answers one a line.
BASH_ASK = r"""
source <(ebpf-hub completion bash) || exit 3
COMP_LINE=$1; COMP_POINT=${#1}; COMP_TYPE=9
words=() word=''
for ((i = 0; i < ${#1}; i++)); do
    c=${1:i:1}
    if [[ $c == [[:space:]] ]]; then [[ -n $word ]] && words+=("$word"); word=''
    elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
        [[ -n $word ]] && words+=("$word"); words+=("$c"); word=''
    else word+=$c; fi
done
words+=("$word")
COMP_WORDS=("${words[@]}"); COMP_CWORD=$((${#words[@]} - 1))
spec=$(complete -p ebpf-hub) || exit 4
function=${spec##*-F }; function=${function%% *}
"$function" ebpf-hub "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""

# An interactive zsh on a pseudo-terminal (zsh/zpty) that loads the script, is typed $1 and
# TAB, then Ctrl-A and a `print` before the line, and Enter: the line as TAB left it is
# printed after "X2X" (which the echo of what was typed never shows).
ZSH_ASK = r"""
zmodload zsh/zpty || exit 3
zpty shell 'zsh -f -i'
zpty -w shell 'PS1="> "; bindkey -e; autoload -U compinit && compinit -u -D &&
    eval "$(ebpf-hub completion zsh)"; echo READY'
zpty -r shell out '*READY*' || exit 4
zpty -n -w shell "$1"$'\t\x01print -r -- X$((1+1))X \n'
zpty -r shell out '*X2X*'$'\n' || exit 5
print -r -- "$out"
zpty -d shell
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed catalogue's JSON index (unpublished: names and versions are all TAB needs)."""
    out = tmp_path_factory.mktemp("completion-site")
    assert main(["index", "--root", str(REPO), "--out", str(out)]) == 0
    return out


@pytest.fixture
def env(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A user whose cache holds the hub's index and execsnoop's entry, and whose hub is gone."""
    home = tmp_path / "home"
    shutil.copytree(site, tmp_path / "served")
    with StaticServer(tmp_path / "served") as server:
        variables = {"EBPF_HUB_HOME": str(home), "EBPF_HUB_URL": server.url}
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        assert main(["search", "--json"]) == 0
        assert main(["info", "execsnoop", "--json"]) == 0
    path = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    yield {**os.environ, **variables, "PATH": path}


def bash_completions(env: dict[str, str], line: str) -> list[str]:
    """What bash offers for `line` (the cursor at its end), as a user pressing TAB gets it."""
    result = subprocess.run(
        ["bash", "--norc", "-c", BASH_ASK, "bash", line],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [answer.rstrip() for answer in result.stdout.splitlines() if answer]


def test_bash_completes_commands_options_and_cached_package_names(env: dict[str, str]) -> None:
    assert bash_completions(env, "ebpf-hub ins") == ["install"]
    assert bash_completions(env, "ebpf-hub out") == ["outdated"]
    assert bash_completions(env, "ebpf-hub completion ") == ["bash", "zsh", "fish"]
    assert bash_completions(env, "ebpf-hub outdated --j") == ["--json"]
    assert bash_completions(env, "ebpf-hub install exec") == ["execsnoop"]
    assert bash_completions(env, "ebpf-hub info ") == SEED
    assert bash_completions(env, "ebpf-hub run tcp") == ["tcplife", "tcproto", "tcpstates"]
    assert bash_completions(env, "ebpf-hub pull kill") == ["killsnoop"]
    # after '@' (a word break for bash) the versions: bash keeps "execsnoop@" and adds these
    assert bash_completions(env, "ebpf-hub install execsnoop@") == ["1.0.0", "1.0.1"]
    # nothing installed, nothing cached for another hub: no answers, no error at TAB
    assert bash_completions(env, "ebpf-hub remove ") == []
    assert bash_completions({**env, "EBPF_HUB_URL": "http://127.0.0.1:9/"}, "ebpf-hub info ") == []


def test_fish_completes_with_descriptions(env: dict[str, str]) -> None:
    fish = shutil.which("fish")
    assert fish, "fish is not installed: scripts/bootstrap --dev installs it"
    script = 'ebpf-hub completion fish | source; complete --do-complete "ebpf-hub install exec"'
    result = subprocess.run(
        [fish, "--no-config", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [line] = result.stdout.splitlines()
    name, description = line.split("\t")
    assert name == "execsnoop"
    assert description.startswith("Trace every program started on the machine")


def test_zsh_completes_on_a_terminal(env: dict[str, str]) -> None:
    zsh = shutil.which("zsh")
    assert zsh, "zsh is not installed: scripts/bootstrap --dev installs it"

    def line_after_tab(line: str) -> str:
        result = subprocess.run(
            [zsh, "-f", "-c", ZSH_ASK, "zsh", line],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        [shown] = re.findall(r"^X2X (.*?)\s*$", result.stdout, re.MULTILINE)
        return str(shown)

    assert line_after_tab("ebpf-hub outd") == "ebpf-hub outdated"
    assert line_after_tab("ebpf-hub install exec") == "ebpf-hub install execsnoop"
    # two versions, 1.0.0 and 1.0.1: zsh inserts what they share
    assert line_after_tab("ebpf-hub info execsnoop@") == "ebpf-hub info execsnoop@1.0."


def test_normal_runs_stay_lean(tmp_path: Path) -> None:
    """argcomplete is imported only at TAB; TAB after a command builds only its group."""
    code = (
        "import sys; from ebpf_hub.cli import main; main(['list', '--json']); "
        "assert 'argcomplete' not in sys.modules, 'imported'"
    )
    env = {**os.environ, "EBPF_HUB_HOME": str(tmp_path)}
    env.pop("_ARGCOMPLETE", None)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    assert typed_command("ebpf-hub ins", 12) is None
    assert typed_command("ebpf-hub install exec", 21) == "install"
    assert typed_command("ebpf-hub install ", 17) == "install"
    assert typed_command("ebpf-hub install exec", 9) is None


def test_every_completer_names_a_real_argument() -> None:
    """A renamed command or argument would silently lose its completion: this says so."""
    assert sorted(attach_completers(build_parser())) == sorted(COMPLETERS)
