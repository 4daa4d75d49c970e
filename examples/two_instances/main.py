"""Two transaction systems in one stack, named apart by a prefix.

X-Ray encryption, an account- and region-wide setting, is managed by one instance only.
Synthesize from the repository root:
``PYTHONPATH=. .venv/bin/python examples/two_instances/main.py`` (writes ``cdktf.out/``).
"""

from __future__ import annotations

from card_transactions.stacks import bindings

bindings.activate()  # optional, before any CDK import: the fast provider import and the pinned Node

from cdktf import App, TerraformOutput, TerraformStack  # noqa: E402
from cdktf_cdktf_provider_aws.provider import AwsProvider  # noqa: E402
from constructs import Construct  # noqa: E402

from card_transactions.stacks.processing import TransactionProcessing  # noqa: E402
from card_transactions.stacks.props import (  # noqa: E402
    EncryptionProps,
    NamingProps,
    NetworkProps,
    NewNetwork,
    TransactionProcessingProps,
)

REGION = "us-east-2"


class TwoSystemsStack(TerraformStack):
    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        AwsProvider(self, "aws", region=REGION)
        for system_id, prefix, cidr, manages_region in (
            ("Cards", "cards-", "10.41.0.0/16", True),
            ("Wallets", "wallets-", "10.42.0.0/16", False),
        ):
            system = TransactionProcessing(
                self,
                system_id,
                TransactionProcessingProps(
                    region=REGION,
                    naming=NamingProps(environment="dev", prefix=prefix),
                    network=NetworkProps(vpc=NewNetwork(cidr=cidr)),
                    encryption=EncryptionProps(manage_xray_encryption=manages_region),
                ),
            )
            TerraformOutput(self, f"{prefix}api_endpoint", value=system.api.endpoint)


def build_app(outdir: str | None = None) -> App:
    app = App(outdir=outdir) if outdir else App()
    TwoSystemsStack(app, "two-systems")
    return app


if __name__ == "__main__":
    build_app().synth()
