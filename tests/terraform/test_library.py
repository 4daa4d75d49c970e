"""The construct in other teams' apps, installed from its wheel, through real Terraform: ``examples/``
built into a fresh virtualenv holding only the wheel and its dependencies (``installed.py``), each
example run there as its own app from a directory of its own, then ``terraform validate``, a plan against
moto (every resource to add, nothing else) and the compliance gate's checkov scan (0 failures; the app's
resource-scoped suppressions carried to each instance's resource of the same construct path, with their
justifications).

- ``bring_your_own``: the system in a host's stack, in the host's VPC and with the host's KMS key;
- ``two_instances``: two systems in one stack, named apart by a prefix.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from card_transactions.stacks.app import TRANSACTION_STACK
from card_transactions.stacks.bundling import function_archive
from compliance.gate import CHECKOV, ROOT, scan_stack
from tests.terraform.installed import DISTRIBUTION, InstalledPackage, install, lock_constraints
from tools.terraform_check.check import StackCheck, open_checks
from tools.terraform_check.moto_server import MotoServer
from tools.terraform_check.toolchain import Toolchain
from tools.wheel import build_wheel

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledPackage:
    return install(build_wheel(tmp_path_factory.mktemp("wheel")))


def synth_example(installed: InstalledPackage, name: str, scratch: Path) -> Path:
    """``python main.py`` of the example with the installed package, in a directory of its own."""
    app = scratch / "app"
    app.mkdir()
    shutil.copy(EXAMPLES / name / "main.py", app)
    installed.run(["main.py"], cwd=app)
    return app / "cdktf.out"


def assert_packages_are_the_checkouts(outdir: Path) -> None:
    """The Lambda packages built from the installed wheel are byte for byte the checkout's."""
    packages = sorted(outdir.glob("stacks/*/assets/*/*/*.zip"))
    assert packages
    for package in packages:
        entry_point, architecture, _ = package.name.rsplit("-", 2)
        assert package.read_bytes() == function_archive(entry_point, architecture).read_bytes(), package.name


INSTALLED_PACKAGE = """
import importlib.util, json, sys
from pathlib import Path
import card_transactions
package = Path(card_transactions.__file__).parent
print(json.dumps({
    "file": card_transactions.__file__,
    "checkout": [n for n in ("stacks", "settings", "handlers", "tools", "tests", "local", "compliance")
                 if importlib.util.find_spec(n)],
    "files": [p.relative_to(package).as_posix() for p in package.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts],
}))
"""


def checkout_files() -> set[str]:
    """The files of the package in the checkout (through its links)."""
    package = ROOT / "card_transactions"
    return {
        path.relative_to(package).as_posix()
        for link in [package, *(package / name for name in ("stacks", "handlers", "settings"))]
        for path in link.glob("*" if link == package else "**/*")
        if path.is_file() and "__pycache__" not in path.parts and ".pytest_cache" not in path.parts
    }


def test_the_installed_package_is_the_wheel_alone(installed: InstalledPackage, tmp_path: Path):
    found = json.loads(installed.run(["-c", INSTALLED_PACKAGE], cwd=tmp_path).stdout)
    assert Path(found["file"]).is_relative_to(installed.root)  # the wheel's copy, not the checkout's
    assert found["checkout"] == []  # no module of the repository is importable
    # Every file travels, the package data (request schema, the functions' pins, py.typed) too.
    assert set(found["files"]) == checkout_files()
    assert {"py.typed", "handlers/domain/transaction.schema.json", "stacks/lambda-requirements.txt"} <= set(
        found["files"]
    )
    lock = {line.split("==")[0].lower(): line.split("==")[1] for line in lock_constraints().split()}
    distributions = installed.distributions()
    others = set(distributions) - set(lock) - {DISTRIBUTION, "pip", "setuptools"}
    assert not others  # the wheel and its dependencies, nothing else
    assert {"cdktf", "constructs", "cdktf-cdktf-provider-aws", "jsii"} <= set(distributions)
    assert all(distributions[name] == lock[name] for name in set(distributions) & set(lock))


def checked(toolchain: Toolchain, outdir: Path, root: Path, moto: MotoServer) -> StackCheck:
    [check] = open_checks(toolchain, outdir, root, log=lambda _: None)
    check.prepare()
    check.init()
    check.validate()
    check.plan(moto.endpoint)  # fails unless every resource is to be added and nothing else
    return check


APP_BASELINE = ROOT / "compliance" / "checkov-baseline.json"


def instance_baseline(doc: dict, path: Path) -> Path:
    """The app's suppressions of the transaction stack, each moved to the resources of ``doc`` at the
    same construct path below an instance (``Api_Stage_<hash>`` -> ``Cards_Api_Stage_<hash>``)."""
    app = json.loads(APP_BASELINE.read_text())
    findings = []
    for block in app["failed_checks"]:
        for finding in block["findings"] if block["stack"] == TRANSACTION_STACK else []:
            prefix, _, logical_id = finding["resource"].rpartition(".")
            stem = logical_id.rsplit("_", 1)[0]
            findings += [
                {**finding, "resource": f"{prefix}.{name}"}
                for bodies in doc["resource"].values()
                for name in bodies
                if re.fullmatch(rf"[A-Za-z0-9]+_{stem}_[0-9A-F]{{8}}", name)
            ]
    path.write_text(json.dumps({"failed_checks": [{"file": "/cdk.tf.json", "findings": findings}]}))
    return path


def assert_compliant(check: StackCheck, tmp_path: Path) -> None:
    if not CHECKOV.exists():
        pytest.fail(f"checkov's environment is missing: `make test` installs {CHECKOV}")
    baseline = instance_baseline(check.doc, tmp_path / "baseline.json")
    result = scan_stack(check.report.name, check.source, baseline=baseline)
    assert not result.problems, result.problems
    assert result.passed > 300


def names(doc: dict, kind: str, attribute: str = "name") -> list[str]:
    return [body[attribute] for body in doc["resource"].get(kind, {}).values()]


def test_two_instances_share_a_stack_and_pass_terraform(
    installed: InstalledPackage, toolchain: Toolchain, moto: MotoServer, tmp_path: Path
):
    outdir = synth_example(installed, "two_instances", tmp_path)
    assert_packages_are_the_checkouts(outdir)
    check = checked(toolchain, outdir, tmp_path / "tf", moto)
    doc = check.doc
    tables = names(doc, "aws_dynamodb_table")
    assert sorted(tables) == sorted(
        f"{prefix}-{table}-dev"
        for prefix in ("cards", "wallets")
        for table in ("merchant-config", "api-keys", "processed-transactions")
    )
    # Every name the instances give their resources is their own.
    for kind, attribute in (
        ("aws_lambda_function", "function_name"),
        ("aws_sqs_queue", "name"),
        ("aws_iam_role", "name"),
        ("aws_cloudwatch_log_group", "name"),
        ("aws_cloudwatch_metric_alarm", "alarm_name"),
    ):
        found = names(doc, kind, attribute)
        assert found and not [n for n, count in Counter(found).items() if count > 1], kind
    assert len(doc["resource"]["aws_xray_encryption_config"]) == 1  # one per region
    assert "aws_api_gateway_account" not in doc["resource"]  # the region's logging setting is the host's
    assert check.report.planned > 250
    assert_compliant(check, tmp_path)


def test_a_host_brings_its_vpc_key_topic_and_bucket(
    installed: InstalledPackage, toolchain: Toolchain, moto: MotoServer, tmp_path: Path
):
    check = checked(toolchain, synth_example(installed, "bring_your_own", tmp_path), tmp_path / "tf", moto)
    doc = check.doc
    assert "aws_kms_key" not in doc["resource"]  # the host's key, not one of ours
    assert list(doc["resource"]["aws_vpc"]) == ["HostVpc"]  # the host's VPC, not one of ours
    host_key = "arn:aws:kms:us-east-2:123456789012:key/0f3c8a52-8a0e-4f6e-9b8f-2a1d6c7e9b10"
    tables = doc["resource"]["aws_dynamodb_table"].values()
    assert [t["server_side_encryption"]["kms_key_arn"] for t in tables] == [host_key] * 3
    for function in doc["resource"]["aws_lambda_function"].values():
        assert function["vpc_config"]["subnet_ids"] == [
            "${aws_subnet.HostPrivateSubnet1.id}",
            "${aws_subnet.HostPrivateSubnet2.id}",
        ]
        assert function["kms_key_arn"].startswith("arn:aws:kms:us-east-2:123456789012:key/")
    assert all(name.startswith("pay-") for name in names(doc, "aws_lambda_function", "function_name"))
    # The host's DynamoDB endpoint carries the construct's policy: the functions' roles, their tables.
    [policy] = doc["resource"]["aws_vpc_endpoint_policy"].values()
    assert policy["vpc_endpoint_id"] == "${aws_vpc_endpoint.HostDynamoDbEndpoint.id}"
    # The host's topic: alarms notify it, nothing of ours is created for it or changes its policy.
    assert not {"aws_sns_topic", "aws_sns_topic_policy"} & set(doc["resource"])
    alarms = doc["resource"]["aws_cloudwatch_metric_alarm"].values()
    assert all(
        alarm["alarm_actions"] == ["arn:aws:sns:us-east-2:123456789012:payments-alerts"] for alarm in alarms
    )
    # The host's package bucket: no bucket of ours, the packages and signed code go to it.
    assert "aws_s3_bucket" not in doc["resource"]
    objects = doc["resource"]["aws_s3_object"].values()
    assert {o["bucket"] for o in objects} == {"payments-platform-lambda-packages"}
    assert_compliant(check, tmp_path)
