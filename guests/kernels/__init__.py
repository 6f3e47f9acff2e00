"""Supervisor-mode guest kernels run by the hypervisor in VS-mode (issue 5,
docs/hypervisor.md); built by ``guests.kernels.build.build_guest``."""
