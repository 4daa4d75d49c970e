"""Synth: a full synth of every stack against a plain ``import cdktf_cdktf_provider_aws`` (target <= 0.33),
and the same synth with CDK Terrain (``CDK_TOOLKIT=cdktn``, its own environment) beside it."""

from __future__ import annotations

import sys
import tempfile

from bench.report import PYTHON, ROOT, Section, print_section, run_child
from card_transactions.stacks.bindings import CDKTN, TOOLKIT_ENV

TARGET_RATIO = 0.33


def run(repeats: int = 3) -> Section:
    plain, synth, cdktn = [], [], []
    for _ in range(repeats):  # interleaved so all see the same machine state
        plain.append(run_child([PYTHON, "-c", "import cdktf_cdktf_provider_aws"]))
        with tempfile.TemporaryDirectory() as outdir:
            synth.append(run_child([PYTHON, str(ROOT / "main.py")], env={"CDKTF_OUTDIR": outdir}))
        with tempfile.TemporaryDirectory() as outdir:
            cdktn.append(
                run_child(
                    [str(CDKTN.python), str(ROOT / "main.py")],
                    env={"CDKTF_OUTDIR": outdir, TOOLKIT_ENV: CDKTN.name},
                )
            )
    plain_s = sorted(r.seconds for r in plain)
    synth_s = sorted(r.seconds for r in synth)
    cdktn_s = sorted(r.seconds for r in cdktn)
    median_plain = plain_s[len(plain_s) // 2]
    median_synth = synth_s[len(synth_s) // 2]
    median_cdktn = cdktn_s[len(cdktn_s) // 2]
    ratio = median_synth / median_plain
    banner = any("end-of-life" in r.stderr.lower() for r in synth + cdktn)
    section = Section(
        title="Synth time and memory",
        header=("what", "median s", "min-max s", "peak RSS MiB (max)", "ratio to plain import"),
        rows=[
            (
                "plain `import cdktf_cdktf_provider_aws`",
                median_plain,
                f"{plain_s[0]:.2f}-{plain_s[-1]:.2f}",
                max(r.peak_mib for r in plain),
                1.0,
            ),
            (
                "full synth of both stacks (`python main.py`)",
                median_synth,
                f"{synth_s[0]:.2f}-{synth_s[-1]:.2f}",
                max(r.peak_mib for r in synth),
                ratio,
            ),
            (
                "the same synth with CDK Terrain (`CDK_TOOLKIT=cdktn`)",
                median_cdktn,
                f"{cdktn_s[0]:.2f}-{cdktn_s[-1]:.2f}",
                max(r.peak_mib for r in cdktn),
                median_cdktn / median_plain,
            ),
        ],
        notes=[
            f"{repeats} interleaved runs each in fresh processes; "
            "peak RSS covers Python and the jsii Node child.",
            f"target ratio <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'} ({ratio:.2f}).",
            f"Node end-of-life banner printed during synth: {'yes' if banner else 'no'}.",
            f"CDK Terrain synth vs cdktf's: {median_cdktn / median_synth:.2f}x the time, "
            f"{max(r.peak_mib for r in cdktn) / max(r.peak_mib for r in synth):.2f}x the peak memory.",
        ],
    )
    section.headlines["synth"] = (
        f"{median_synth:.1f} s ({ratio:.2f}x a plain provider import of {median_plain:.1f} s); "
        f"{median_cdktn:.1f} s with CDK Terrain"
    )
    return section


if __name__ == "__main__":
    print_section(run(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
