# The captured Terraform configurations (aws-wire terraform run1 and run2:
# trust store + revocation; ALB + target group + mTLS listener) joined, with
# a target attachment. The test replaces ENDPOINT, LISTENER_PORT and
# TARGET_PORT.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
provider "aws" {
  region                  = "us-east-1"
  access_key              = "test"
  secret_key              = "test"
  skip_metadata_api_check = true
  s3_use_path_style       = true
  endpoints {
    elbv2 = "ENDPOINT"
    s3    = "ENDPOINT"
    sts   = "ENDPOINT"
  }
}
resource "aws_lb_trust_store" "ts" {
  name                             = "my-trust-store"
  ca_certificates_bundle_s3_bucket = "edge-trust"
  ca_certificates_bundle_s3_key    = "bundle.pem"
}
resource "aws_lb_trust_store_revocation" "crl" {
  trust_store_arn       = aws_lb_trust_store.ts.arn
  revocations_s3_bucket = "edge-trust"
  revocations_s3_key    = "crl/intermediate.crl.pem"
}
resource "aws_lb" "alb" {
  name               = "my-alb"
  load_balancer_type = "application"
  subnets            = ["subnet-8360a9e7", "subnet-b7d581c0"]
  security_groups    = ["sg-5943793c"]
}
resource "aws_lb_target_group" "tg" {
  name        = "my-targets"
  port        = 80
  protocol    = "HTTP"
  vpc_id      = "vpc-3ac0fb5f"
  target_type = "ip"
}
resource "aws_lb_target_group_attachment" "echo" {
  target_group_arn = aws_lb_target_group.tg.arn
  target_id        = "127.0.0.1"
  port             = TARGET_PORT
}
resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.alb.arn
  port              = LISTENER_PORT
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = "arn:aws:acm:us-east-1:123456789012:certificate/3dcb0a41-bd72-4774-9ad9-756919c40557"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.tg.arn
  }
  mutual_authentication {
    mode            = "verify"
    trust_store_arn = aws_lb_trust_store.ts.arn
  }
}
output "listener_arn" {
  value = aws_lb_listener.https.arn
}
