"""tools/release_snapshot.py: the snapshot holds what Terraform reads, byte for byte, and nothing else."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tools.release_snapshot import (
    RELEASE_DIR,
    RELEASE_FILE,
    place_assets,
    release_environment,
    write_snapshot,
)


def relative_files(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


def test_a_snapshot_copies_the_manifest_and_each_stacks_terraform_files(synth_dir: Path, tmp_path: Path):
    target = tmp_path / "last"
    write_snapshot(synth_dir, target, {"environment": "dev", "commit": "abc"})
    stacks = json.loads((synth_dir / "manifest.json").read_text())["stacks"].values()
    expected = {"manifest.json", RELEASE_FILE} | {
        f"{s['workingDirectory']}/{name}"
        for s in stacks
        for name in ("cdk.tf.json", "versions.tf", "removed.tf")
        if (synth_dir / s["workingDirectory"] / name).exists()
    }
    assert "stacks/transaction-processing/removed.tf" in expected
    assert relative_files(target) == expected  # no assets, no metadata
    for name in expected - {RELEASE_FILE}:
        assert (target / name).read_bytes() == (synth_dir / name).read_bytes()
    assert release_environment(target) == "dev"


def test_the_committed_snapshot_has_the_same_shape():
    files = relative_files(RELEASE_DIR)
    assert {"manifest.json", RELEASE_FILE} <= files
    stack_files = [name for name in files if name.startswith("stacks/")]
    assert stack_files and all(
        name.endswith(("cdk.tf.json", "versions.tf", "removed.tf")) for name in stack_files
    )
    assert release_environment() == "dev"
    assert len(json.loads((RELEASE_DIR / RELEASE_FILE).read_text())["commit"]) == 40


def test_placeholders_stand_in_for_every_package_the_snapshot_uploads(tmp_path: Path):
    doc = json.loads((RELEASE_DIR / "stacks" / "transaction-processing" / "cdk.tf.json").read_text())
    placed = place_assets(doc, tmp_path)
    sources = {body["source"] for body in doc["resource"]["aws_s3_object"].values()}
    assert {str(p.relative_to(tmp_path)) for p in placed} == sources
    for path in placed:
        assert zipfile.ZipFile(path).namelist() == ["index.py"]
        assert path.stat().st_size < 1024
