# seccomp/discover.awk: which system calls each thread class made after it
# loaded its filter, from `strace -f -o FILE` of one ember run (busybox awk
# and gawk). Prints "CLASS CALL" or "CLASS CALL(ARG)" lines (the argument
# that the allowlists filter on: ioctl request, fcntl command, mmap/mprotect
# protection, madvise advice...), one per call made; pipe through sort -u.
# The thread that started first is "main", every other one "vcpu". How to
# use it with a discovery build: docs/sandbox.md.
function arg(s, n,   i, depth, c, cur, k) {	# nth top-level argument of "name(a, b, ...)"
	s = substr(s, index(s, "(") + 1)
	k = 1; depth = 0; cur = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "{" || c == "[" || c == "(") depth++
		else if (c == "}" || c == "]" || c == ")") { if (depth == 0) break; depth-- }
		else if (c == "," && depth == 0) { if (k == n) return cur; k++; cur = ""; continue }
		cur = cur c
	}
	return k == n ? cur : ""
}
function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
{
	pid = $1
	if (mainpid == "") mainpid = pid
	line = $0; sub(/^[0-9]+ +/, "", line); sub(/ <unfinished \.\.\.>$/, "", line)
	if (line ~ /^<\.\.\./ || line ~ /^---/ || line ~ /^\+\+\+/) next
	name = line; sub(/\(.*/, "", name)
	# The thread's own filter; libseccomp's probes (EFAULT) before it do not count.
	if (name == "seccomp" && line ~ /SECCOMP_SET_MODE_FILTER, 0, \{len=.*\) = 0/) { on[pid] = 1; next }
	if (!on[pid]) next
	sig = name
	if (name == "ioctl" || name == "fcntl" || name == "epoll_ctl" || name == "futex")
		sig = name "(" trim(arg(line, 2)) ")"
	else if (name == "mmap" || name == "mprotect" || name == "madvise" || name == "tgkill")
		sig = name "(" trim(arg(line, 3)) ")"
	else if (name == "rt_sigprocmask" || name == "clock_gettime")
		sig = name "(" trim(arg(line, 1)) ")"
	print (pid == mainpid ? "main" : "vcpu") " " sig
}
