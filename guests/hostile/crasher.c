/*
 * crasher.c: a faulty guest for fault containment (issue 5, item 9). After two lines it
 * stores to guest-physical 0x4000_0000, which is neither its RAM nor the virtual UART:
 * the G-stage has no mapping there, so the hypervisor must stop (or restart) the VM.
 * The line after the store must never appear.
 */
#include "klib.h"

#define BAD_GPA 0x40000000ul

int kmain(void)
{
    console_select(CONSOLE_DBCN);
    kprintf("crasher: starting\n");
    kprintf("crasher: storing to 0x%lx\n", BAD_GPA);
    *(volatile uint32_t *)BAD_GPA = 0xdeadbeef;
    kprintf("crasher: ERROR: still running after the store\n");
    return 1;
}
