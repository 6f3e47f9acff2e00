"""Isolation fuzzing (issue 7; docs/fuzzing.md): executable isolation properties over
the model's state and retirement trace, adversarial guests, fast cases from a
post-boot snapshot, campaigns, and firmware mutation testing."""


class IsolationError(ValueError):
    """Bad input to the isolation tools; the message is one line naming the problem."""
