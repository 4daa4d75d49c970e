# Written by stacks/app.py at synth: Terraform merges it with cdk.tf.json (see README, Deploy).
terraform {
  required_version = ">= 1.10.0, < 2.0.0"
}
