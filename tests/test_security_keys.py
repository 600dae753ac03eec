"""`ebpf-hub keygen` and signing keys under attack (issue #11): another local user racing to
read a fresh private key, passphrase-encrypted keys in cosign's format used to publish, and a
wrong passphrase. The CLI runs as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.oci.errors import SigningKeyError
from ebpf_hub.oci.keys import load_private_key, load_public_key
from ebpf_hub.oci.reference import parse_reference
from ebpf_hub.oci.signing import verify
from ebpf_hub.oci.store import open_store
from hubrepo import REPO, copy_seed, make_hub

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
PASSPHRASE = "correct horse battery staple"  # noqa: S105 - a test passphrase
KEYGENS = 150  # attempts in the race; the old code's window was hit within a few dozen

# Run as `nobody` by the system's Python: open every file of the directory as fast as it can
# and print the first line of any it could read, until told to stop by a file appearing.
READER = """
import os, sys
directory, stop = sys.argv[1], sys.argv[2]
print("ready", flush=True)
while not os.path.exists(stop):
    try:
        names = os.listdir(directory)
    except OSError:
        continue
    for name in names:
        try:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
        except OSError:
            continue
        head = os.read(fd, 64)
        os.close(fd)
        if b"PRIVATE KEY" in head:
            print("READ", name, flush=True)
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EBPF_HUB, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can list and open files in (pytest's tmp_path is 0700)."""
    directory = Path(tempfile.mkdtemp(prefix="ebpf-hub-keys-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root to act as nobody"
)
def test_keygen_private_key_is_never_readable_by_another_user(shared_dir: Path) -> None:
    """With umask 000, `nobody` opens every file of the key's directory in a tight loop while
    keygen writes (and, with --force, rewrites) the key: it must never read a private key."""
    stop = shared_dir.parent / f"{shared_dir.name}.stop"
    as_nobody = ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", READER]
    reader = subprocess.Popen(
        [*as_nobody, str(shared_dir), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    assert reader.stdout.readline() == "ready\n"
    from ebpf_hub.cli import main

    previous = os.umask(0)
    try:
        for _ in range(KEYGENS):
            # In-process: the window of a key created with the umask's mode, then chmod-ed,
            # is microseconds; process start-up around it would hide it.
            assert main(["keygen", str(shared_dir / "hub"), "--force"]) == 0
    finally:
        os.umask(previous)
        stop.touch()
    try:
        out, _ = reader.communicate(timeout=30)
    finally:
        stop.unlink()
    assert "READ" not in out, f"another user read the private key:\n{out}"
    assert (shared_dir / "hub.key").stat().st_mode & 0o777 == 0o600
    assert (shared_dir / "hub.pub").stat().st_mode & 0o077 != 0, "the public key stays public"


def test_keygen_refuses_to_replace_a_key_or_follow_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("someone else's file\n")
    (tmp_path / "hub.key").symlink_to(victim)
    result = cli("keygen", str(tmp_path / "hub"))
    assert result.returncode == 1
    assert (
        result.stderr
        == f"ebpf-hub: error: {tmp_path / 'hub.key'} exists; pass --force to replace it\n"
    )
    assert victim.read_text() == "someone else's file\n"
    assert cli("keygen", str(tmp_path / "hub"), "--force").returncode == 0
    assert not (tmp_path / "hub.key").is_symlink(), "the link is replaced, not followed"
    assert victim.read_text() == "someone else's file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hub.key", "hub.pub", "victim"]


def test_encrypted_key_publishes_signatures_that_verify(tmp_path: Path) -> None:
    """keygen --passphrase writes cosign's encrypted format; publish opens it with the
    passphrase from the environment and signs; the signature verifies with the public key."""
    env = {"EBPF_HUB_SIGNING_KEY_PASSWORD": PASSPHRASE}
    result = cli("keygen", str(tmp_path / "hub"), "--passphrase", env=env)
    assert result.returncode == 0, result.stderr
    pem = (tmp_path / "hub.key").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    assert (tmp_path / "hub.key").stat().st_mode & 0o777 == 0o600
    hub = make_hub(tmp_path / "hub-repo")
    copy_seed(hub, "killsnoop")
    layout, ledger = tmp_path / "oci", tmp_path / "digests.json"
    publish = ["publish", "--root", str(hub), "--registry", f"oci:{layout}", "--all"]
    publish += ["--sign-key", str(tmp_path / "hub.key"), "--ledger", str(ledger)]
    result = cli(*publish, env={"COSIGN_PASSWORD": PASSPHRASE})  # cosign's variable works too
    assert result.returncode == 0, result.stderr
    [(version, entry)] = json.loads(ledger.read_text())["killsnoop"].items()
    reference = parse_reference(f"oci:{layout}/killsnoop:{version}")
    public = load_public_key(tmp_path / "hub.pub")
    verify(open_store(reference), reference.name, entry["digest"], public)


def test_wrong_or_missing_passphrase_is_one_clear_line(tmp_path: Path) -> None:
    env = {"EBPF_HUB_SIGNING_KEY_PASSWORD": PASSPHRASE}
    assert cli("keygen", str(tmp_path / "hub"), "--passphrase", env=env).returncode == 0
    hub = make_hub(tmp_path / "hub-repo")
    copy_seed(hub, "killsnoop")
    publish = ["publish", "--root", str(hub), "--registry", f"oci:{tmp_path / 'oci'}", "--all"]
    publish += ["--sign-key", str(tmp_path / "hub.key"), "--ledger", str(tmp_path / "d.json")]
    expected = (
        f"ebpf-hub: error: cannot decrypt the signing key {tmp_path / 'hub.key'}: wrong or "
        "missing password (set EBPF_HUB_SIGNING_KEY_PASSWORD or COSIGN_PASSWORD to its "
        "passphrase)\n"
    )
    for env in ({"EBPF_HUB_SIGNING_KEY_PASSWORD": "guess"}, {}):
        clean = {k: v for k, v in os.environ.items() if "PASSWORD" not in k}
        result = subprocess.run(
            [EBPF_HUB, *publish],
            capture_output=True,
            text=True,
            env={**clean, **env},
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert (result.returncode, result.stderr) == (1, expected)
    assert not (tmp_path / "oci").exists(), "nothing is pushed with a key that does not open"


def test_keygen_passphrase_needs_the_environment_or_a_terminal(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if "PASSWORD" not in k}
    result = subprocess.run(
        [EBPF_HUB, "keygen", str(tmp_path / "hub"), "--passphrase"],
        capture_output=True,
        text=True,
        env=clean,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "ebpf-hub: error: --passphrase: set EBPF_HUB_SIGNING_KEY_PASSWORD or run on a terminal\n"
    )
    assert not list(tmp_path.iterdir())


def cosign() -> str:
    """The real cosign that scripts/fetch-tools puts in .tools/bin (or $COSIGN)."""
    binary = os.environ.get("COSIGN") or str(REPO / ".tools" / "bin" / "cosign")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary}: no cosign binary; run scripts/fetch-tools (scripts/test does)")
    return binary


def test_cosign_and_ebpf_hub_open_each_others_encrypted_keys(tmp_path: Path) -> None:
    binary = cosign()
    env = {**os.environ, "COSIGN_PASSWORD": PASSPHRASE}
    assert cli("keygen", str(tmp_path / "ours"), "--passphrase", env=env).returncode == 0
    blob = tmp_path / "blob"
    blob.write_text("signed by a key ebpf-hub made\n")
    sign = [binary, "sign-blob", "--yes", "--key", str(tmp_path / "ours.key")]
    sign += ["--tlog-upload=false", "--use-signing-config=false"]
    subprocess.run(
        [*sign, "--bundle", str(tmp_path / "bundle.json"), str(blob)],
        env=env,
        capture_output=True,
        check=True,
    )
    check = [binary, "verify-blob", "--key", str(tmp_path / "ours.pub"), "--insecure-ignore-tlog"]
    subprocess.run(
        [*check, "--bundle", str(tmp_path / "bundle.json"), str(blob)],
        env=env,
        capture_output=True,
        check=True,
    )
    subprocess.run(
        [binary, "generate-key-pair", "--output-key-prefix", str(tmp_path / "theirs")],
        env=env,
        capture_output=True,
        check=True,
        cwd=tmp_path,
    )
    theirs = load_private_key(tmp_path / "theirs.key", env={"COSIGN_PASSWORD": PASSPHRASE})
    public = load_public_key(tmp_path / "theirs.pub")
    assert theirs.public_key().public_numbers() == public.public_numbers()
    with pytest.raises(SigningKeyError, match="wrong or missing password"):
        load_private_key(tmp_path / "theirs.key", env={"COSIGN_PASSWORD": "guess"})
