"""Owners of writes: a process that another one can judge alive or dead, on this host only."""

from __future__ import annotations

import subprocess
import sys

from focal.storage.owner import is_gone, leading_owner, pid_space, this_process

PRINT_OWNER = "from focal.storage.owner import this_process; print(this_process(), flush=True)"


def owner_of_a_process_that_exited() -> str:
    finished = subprocess.run(
        [sys.executable, "-c", PRINT_OWNER], capture_output=True, text=True, check=True
    )
    return finished.stdout.strip()


def test_this_process_is_alive_and_a_process_that_exited_is_gone() -> None:
    assert not is_gone(this_process())
    dead = owner_of_a_process_that_exited()
    assert dead.startswith(pid_space() + "-")
    assert is_gone(dead)


def test_a_live_process_is_not_gone_until_it_exits() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", PRINT_OWNER + "; import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    owner = child.stdout.readline().strip()
    assert not is_gone(owner)
    child.stdin.close()
    child.wait(30)
    assert is_gone(owner)


def test_a_reused_pid_is_another_process() -> None:
    space, pid, start = this_process().split("-")
    assert is_gone(f"{space}-{pid}-{int(start) + 1}")


def test_owners_that_cannot_be_judged_are_never_gone() -> None:
    space, pid, start = owner_of_a_process_that_exited().split("-")
    other_host = ("f" if space[0] != "f" else "e") + space[1:]
    assert not is_gone(f"{other_host}-{pid}-{start}")
    for name in ("", "someone", "host-1-2", f"{space}-x-1"):
        assert not is_gone(name), name


def test_an_owner_is_read_from_the_start_of_a_name() -> None:
    owner = this_process()
    assert leading_owner(f"{owner}-0123456789abcdef") == owner
    assert leading_owner("original.0123456789abcdef") is None
