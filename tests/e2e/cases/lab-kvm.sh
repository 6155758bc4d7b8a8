# The lab gives a usable /dev/kvm: a real (SVM/VMX) KVM, not the host's PVM one.
# e2e-timeout: 30
# shellcheck source=../lib.sh
. "$E2E_LIB"

need_kvm
ls -l /dev/kvm
# Opening it is what every VMM does first.
dd if=/dev/kvm of=/dev/null bs=1 count=0 2>/dev/null || fail "cannot open /dev/kvm"
[ ! -d /sys/module/kvm_pvm ] || fail "kvm_pvm is loaded: this KVM cannot boot ordinary guests"
if [ -d /sys/module/kvm_amd ]; then
	npt=$(cat /sys/module/kvm_amd/parameters/npt)
	note "kvm_amd loaded, npt=$npt"
	case "$npt" in 1 | Y) ;; *) fail "kvm_amd without nested paging (npt=$npt)" ;; esac
elif [ -d /sys/module/kvm_intel ]; then
	note "kvm_intel loaded, ept=$(cat /sys/module/kvm_intel/parameters/ept)"
else
	fail "neither kvm_amd nor kvm_intel is loaded"
fi
