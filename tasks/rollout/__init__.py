"""The rollout stage: shadow and canary evidence, each step's check, its state machine and
approvals."""
