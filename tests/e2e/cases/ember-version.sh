# `ember --version` runs and says something.
# e2e-timeout: 30
# shellcheck source=../lib.sh
. "$E2E_LIB"

need_ember
"$EMBER" --version >"$E2E_TMP/version" 2>&1 || { cat "$E2E_TMP/version"; fail "ember --version exited $?"; }
cat "$E2E_TMP/version"
[ -s "$E2E_TMP/version" ] || fail "ember --version printed nothing"
