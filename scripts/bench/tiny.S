/*
 * scripts/bench/tiny.S: the smallest guest a VMM can start, for
 * scripts/bench/start. An ELF with a PVH entry note (both ember and QEMU's
 * microvm enter it in 32-bit protected mode, paging off): it prints
 * "TINY-UP" on COM1 and powers off at once, ember's way (S5 through the
 * sleep control port 0x600) and then QEMU microvm's (S5 through the GED's
 * sleep control register at 0xfea00200); each VMM ignores the other's.
 *   gcc -nostdlib -static -Wl,-N -Wl,-Ttext=0x100000 \
 *       -Wl,--section-start=.note.Xen=0x100100 -Wl,--build-id=none -o tiny tiny.S
 */
	.section .note.Xen, "a"
	.balign 4
	.long 4			/* name size: "Xen\0" */
	.long 4			/* desc size */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_entry

	.text
	.code32
	.globl _start
_start:
pvh_entry:
	mov $0x3f8, %dx
	lea msg, %esi
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	mov $0x600, %dx		/* ember: SLP_EN | SLP_TYP 5 */
	mov $0x34, %al
	out %al, %dx
	mov $100000, %ecx	/* let ember's vCPU stop before the next write */
3:	pause
	loop 3b
	movb $0x34, 0xfea00200	/* QEMU microvm: the same through the GED */
4:	cli
	hlt
	jmp 4b

msg:	.asciz "TINY-UP\n"
