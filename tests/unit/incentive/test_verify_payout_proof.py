"""The standalone verifier (scripts/verify_payout_proof.py) agrees with the model's Merkle
tree and id map, and refuses a tampered amount, a foreign leaf and an unpublished root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from services.incentive.domain.id_map import IdKind, int_id
from services.incentive.domain.merkle import merkle_proofs, merkle_root

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "verify_payout_proof.py"


def _week(tmp_path: Path, **change: object) -> tuple[Path, Path]:
    creators = {f"creator-{n}": 100 * n + 7 for n in range(1, 6)}
    leaves = [(int_id(IdKind.CREATOR, c), a) for c, a in creators.items()]
    root = merkle_root(leaves).hex()
    me = int_id(IdKind.CREATOR, "creator-3")
    proof = [{"sibling": s.sibling.hex(), "sibling_is_left": s.sibling_on_left}
             for s in merkle_proofs(leaves)[me]]
    week = {"creator_id": "creator-3", "creator_int_id": me, "week": "2026-W48",
            "allocated_minor": creators["creator-3"], "asset": "USDT", "proof": proof,
            "merkle_root": root, **change}
    week_file, public_file = tmp_path / "week.json", tmp_path / "public.json"
    week_file.write_text(json.dumps(week))
    public_file.write_text(json.dumps({"weeks": [{"week": "2026-W48", "merkle_root": root}]}))
    return week_file, public_file


def _run(*args: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, check=False)


def test_a_true_amount_verifies(tmp_path: Path) -> None:
    done = _run(*_week(tmp_path))
    assert done.returncode == 0 and done.stdout.startswith("verified: creator-3 307 USDT")


def test_a_changed_amount_a_foreign_leaf_or_another_root_does_not(tmp_path: Path) -> None:
    for change, says in (({"allocated_minor": 308}, "the proof leads to"),
                         ({"creator_id": "creator-4"}, "is not creator 'creator-4'")):
        done = _run(*_week(tmp_path, **change))
        assert done.returncode == 1 and says in done.stdout, done.stdout
    week, public = _week(tmp_path)
    public.write_text(json.dumps({"weeks": [{"week": "2026-W48", "merkle_root": "00" * 32}]}))
    done = _run(week, public)
    assert done.returncode == 1 and "published for 2026-W48" in done.stdout


def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = _run(bad)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
