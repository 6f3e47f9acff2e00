/*
 * entry.S: the paging kernel's trap vector (stvec, direct mode; priv spec 12.1.2) and
 * the return to U-mode (sret, priv spec 3.3.2). While a process runs in U-mode,
 * sscratch (priv spec 12.1.6) holds its struct uframe; in the kernel it is 0. A trap
 * from U saves x1..x31 and sepc in that frame, runs user_trap(frame) on the top of the
 * kernel's only stack and resumes the frame it returns. A trap from the kernel itself
 * (sscratch = 0) goes to the runtime's trap_entry.
 */
#define FRAME_SEPC 256

    .text
    .balign 4
    .globl paging_vector
paging_vector:
    csrrw t6, sscratch, t6
    beqz t6, from_kernel
    .irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, \
        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30
    sd x\n, 8 * \n(t6)
    .endr
    csrr t0, sscratch
    sd t0, 248(t6)
    csrw sscratch, zero
    csrr t0, sepc
    sd t0, FRAME_SEPC(t6)
    la sp, _stack_top
    mv a0, t6
    call user_trap

/* user_resume(frame): load the frame and sret to U-mode (sstatus.SPP must be 0). */
    .globl user_resume
user_resume:
    ld t0, FRAME_SEPC(a0)
    csrw sepc, t0
    csrw sscratch, a0
    mv t6, a0
    .irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, \
        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30
    ld x\n, 8 * \n(t6)
    .endr
    ld t6, 248(t6)
    sret

from_kernel:
    csrrw t6, sscratch, t6
    j trap_entry
