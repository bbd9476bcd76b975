"""scripts/proto_breaking.sh catches breaking proto changes (in a temporary copy of proto/ on
its own git repository) and lets compatible ones through."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "proto_breaking.sh"
FEES = "proto/planet/exchange/v1/events.proto"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.invalid",
                    "-c", "user.name=t", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def buf_installed() -> None:
    # Builds buf once into .local/bin if it is missing (make proto-breaking does it first).
    done = subprocess.run(["bash", str(SCRIPT), "install"], capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def repo(tmp_path: Path, buf_installed: None) -> Path:
    """A repository whose main holds today's proto/."""
    _git(tmp_path, "init", "-q", "-b", "main")
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    _git(tmp_path, "add", "proto")
    _git(tmp_path, "commit", "-q", "-m", "main")
    return tmp_path


def _check(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "PROTO_BREAKING_REPO": str(repo), **env})


def _edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, f"{old!r} not in {path}"
    file.write_text(text.replace(old, new, 1))


BREAKING: dict[str, tuple[Callable[[Path], None], str]] = {
    "retyped field": (lambda r: _edit(r, FEES, "int64 amount_minor = 3;",
                                      "string amount_minor = 3;"),
                      'changed type from "int64" to "string"'),
    "removed field, not reserved": (lambda r: _edit(r, FEES, "  string currency = 4;\n", ""),
                                    'Previously present field "4" with name "currency"'),
    "renumbered field": (lambda r: _edit(r, FEES, "int64 charged_at_ms = 5;",
                                         "int64 charged_at_ms = 9;"), "charged_at_ms"),
    "removed enum value": (lambda r: _edit(r, "proto/planet/exchange/v2/events.proto",
                                           "  SIDE_SELL = 2;\n", ""),
                           'Previously present enum value "2" on enum "Side" was deleted'),
    "removed rpc": (lambda r: _remove_first_rpc(r), "was deleted"),
}


def _remove_first_rpc(repo: Path) -> None:
    path = "proto/planet/incentive/v1/incentive_service.proto"
    line = next(x for x in (repo / path).read_text().splitlines() if x.strip().startswith("rpc "))
    _edit(repo, path, line + "\n", "")


@pytest.mark.parametrize("change", sorted(BREAKING))
def test_a_breaking_change_in_the_working_tree_fails_naming_it(repo: Path, change: str) -> None:
    apply, message = BREAKING[change]
    apply(repo)
    result = _check(repo)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert "new versioned package" in result.stderr


def test_a_proto_that_does_not_compile_is_reported_as_such(repo: Path) -> None:
    _edit(repo, FEES, "message TradeFeeCharged {", "message TradeFeeCharged {{")
    result = _check(repo)
    assert result.returncode != 0 and "could not compare" in result.stderr


def test_a_committed_breaking_change_is_caught_against_the_previous_commit(repo: Path) -> None:
    BREAKING["retyped field"][0](repo)
    _git(repo, "commit", "-q", "-am", "retype")
    assert _check(repo).returncode != 0
    # On a branch, everything since the merge-base with main counts.
    _git(repo, "checkout", "-q", "-b", "feature")
    _edit(repo, FEES, "// Superseded", "// Still superseded")
    _git(repo, "commit", "-q", "-am", "comment")
    assert _check(repo, PROTO_BREAKING_AGAINST="main~1").returncode != 0


def test_additive_changes_and_a_new_versioned_package_pass(repo: Path) -> None:
    _edit(repo, FEES, "  int64 charged_at_ms = 5;\n",
          "  int64 charged_at_ms = 5;\n  string venue = 6;\n")
    (repo / "proto/planet/exchange/v3").mkdir()
    (repo / "proto/planet/exchange/v3/events.proto").write_text(
        'syntax = "proto3";\npackage planet.exchange.v3;\nmessage Ping { string id = 1; }\n'
    )
    result = _check(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no breaking changes" in result.stderr


def test_a_removed_field_is_breaking_even_reserved_but_deprecating_it_passes(repo: Path) -> None:
    # FILE rules: generated code loses the accessor, so removal breaks its users either way.
    _edit(repo, FEES, "  string currency = 4;\n", '  reserved 4;\n  reserved "currency";\n')
    assert _check(repo).returncode != 0
    _edit(repo, FEES, '  reserved 4;\n  reserved "currency";\n',
          "  string currency = 4 [deprecated = true];\n")
    result = _check(repo)
    assert result.returncode == 0, result.stdout + result.stderr
