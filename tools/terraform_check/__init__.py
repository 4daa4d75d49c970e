"""Real Terraform on the synthesized stacks, offline: validate, fmt, plan, apply and re-plan against moto.

``make tf-check`` (``python -m tools.terraform_check``) and ``tests/terraform`` run the real ``terraform``
CLI with the real ``hashicorp/aws`` provider on a scratch copy of every synthesized stack (under
``build/terraform-check/``, never in ``cdktf.out/``):

1. ``terraform init -backend=false`` with the provider installed only from a local filesystem mirror
   (``toolchain``), then ``terraform validate`` and ``terraform fmt -check`` (``versions.tf``);
2. ``terraform plan`` against a moto server on a free loopback port (``moto_server``), the provider pointed
   at it by an ``*_override.tf.json`` (``workdir``);
3. ``terraform apply`` of every stack in deploy order (state backend first), leaving out only what moto
   cannot emulate (``moto_gaps``, the one documented list), then a second ``plan`` that must report no
   changes (a perpetual diff is a bug in the constructs).

``upgrade`` (``tests/terraform/test_upgrade.py``) reuses these steps for the upgrade check: the last
release's stateful resources applied, then the current code planned against that state.

Why the scratch copy runs another provider version, and what that means
-----------------------------------------------------------------------
The stacks pin ``hashicorp/aws`` 6.25.0 (the version cdktf-cdktf-provider-aws 21.22.1 wraps), and the
committed pin stays exactly that: ``cdktf deploy`` and the pull-request workflow use 6.25.0 from the
registry. These machines have no network but ship one provider version in a filesystem mirror (5.100.0
today), so the scratch copy sets ``required_providers.aws.version`` to the version the mirror holds, and
drops ``terraform.backend`` (``init -backend=false`` skips it anyway, and the S3 backend must never be
contacted). What it means: the stacks are validated, planned and applied with that provider's schema,
validators and plan-time checks, which for these resources are the same as 6.25.0's except where the 6.0
release changed them. So an argument only 6.x knows would fail here (none today), and a check only 6.x
makes is missed here: the pull-request workflow's ``terraform validate`` with the pinned 6.25.0 covers the
schema side of that gap on every pull request.

Nothing here can reach the network: provider installation has no ``direct`` source, ``CHECKPOINT_DISABLE``
is set, every AWS endpoint the stacks use points at moto on 127.0.0.1, and HTTP(S) proxies point at a
closed loopback port so that any other request fails at once instead of leaving the machine.
"""
