"""Example and operating-system guest kernels run by the hypervisor in VS-mode
(docs/guests.md); built by ``guests.build.build_guest``."""
