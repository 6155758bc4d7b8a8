# A "kernel" whose 64-bit entry executes ud2 with no IDT: #UD, #DF, triple
# fault. ember must end with status 2, say why, and dump the registers.
# e2e-timeout: 60
. "$E2E_LIB"
need_ember
need_kvm
k=$E2E_TMP/crash.bzImage
# Setup header (boot protocol 2.15, 64-bit entry), one setup sector, then
# 4 KiB of protected-mode code: at +0x200 (the 64-bit entry) ud2.
put() { # OFFSET OCTAL-BYTES
	printf "$2" | dd of="$k" bs=1 seek=$(($1)) conv=notrunc status=none
}
dd if=/dev/zero of="$k" bs=1024 count=5 status=none
put 0x1f1 '\001'                         # setup_sects
put 0x1f4 '\000\001\000\000'             # syssize: 256 paragraphs = 4 KiB
put 0x1fe '\125\252'                     # 0xAA55
put 0x202 'HdrS'
put 0x206 '\017\002'                     # version 2.15
put 0x211 '\001'                         # loadflags: LOADED_HIGH
put 0x22c '\377\377\377\177'             # initrd_addr_max
put 0x230 '\000\000\040\000'             # kernel_alignment 2 MiB
put 0x236 '\003\000'                     # xloadflags: KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
put 0x238 '\377\007\000\000'             # cmdline_size
put 0x258 '\000\000\000\001\000\000\000\000' # pref_address 16 MiB
put 0x260 '\000\000\020\000'             # init_size 1 MiB
put $((0x400 + 0x200)) '\017\013'        # ud2 at the 64-bit entry
run_ember --timeout 30 -kernel "$k" -m 64
rc=$?
expect_eq "$rc" 2 "ember exit status after a triple fault"
expect_in "$EMBER_LOG" "triple fault"
expect_in "$EMBER_LOG" "rip="
expect_in "$EMBER_LOG" "cr0="
