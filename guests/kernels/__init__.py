"""Supervisor-mode guest kernels run by the hypervisor in VS-mode (issue 5, HV_INTERFACES.md
"Guests"); built by ``guests.kernels.build.build_guest``."""
