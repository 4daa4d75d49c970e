"""Two transaction systems in one stack, named apart by a prefix.

X-Ray encryption, an account- and region-wide setting, is managed by one instance only.
Synthesize with the package installed (``pip install card_transactions_cdktf-<version>-py3-none-any.whl``):
``python main.py`` writes ``cdktf.out/``; from a checkout:
``PYTHONPATH=. .venv/bin/python examples/two_instances/main.py``.
"""

from __future__ import annotations

import card_transactions

card_transactions.activate()  # optional, before any CDK import: the fast provider import and the pinned Node

from cdktf import App, TerraformOutput, TerraformStack  # noqa: E402
from cdktf_cdktf_provider_aws.provider import AwsProvider  # noqa: E402
from constructs import Construct  # noqa: E402

from card_transactions import (  # noqa: E402
    EncryptionProps,
    NamingProps,
    NetworkProps,
    NewNetwork,
    TransactionProcessing,
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
