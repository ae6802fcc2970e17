#!/usr/bin/env bash
# test_check.sh SHARDGATE SOURCE_ROOT: `shardgate --config F --check` on
#  - every tests/unit/config/bad/NAME.yaml: exit 2, nothing on stdout, and
#    exactly NAME.err on stderr;
#  - every example in config/, docker/shardgate.yaml and tests/unit/config/good/: exit 0, the
#    effective configuration on stdout, no secret of the input in it, and
#    that output itself passes --check and prints the same again (when it
#    holds no placeholder);
#  - a missing file (exit 2). Running without --check is the integration
#    suite's business (it starts the proxy for real).
set -uo pipefail
exe=$(realpath "$1") src=$(realpath "$2")
work=$(mktemp -d /tmp/sg-config-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

cd "$src/tests/unit/config/bad" || exit 1
n=0
for y in *.yaml; do
	n=$((n + 1))
	"$exe" --config "$y" --check >"$work/out" 2>"$work/err"
	rc=$?
	[ $rc -eq 2 ] || fail "$y: exit $rc, want 2"
	[ -s "$work/out" ] && fail "$y: printed a configuration"
	if ! cmp -s "$work/err" "${y%.yaml}.err"; then
		fail "$y: stderr differs from ${y%.yaml}.err"
		diff "${y%.yaml}.err" "$work/err" | head -20 >&2
	fi
done
[ $n -ge 20 ] || fail "only $n bad files"

# Values of secret keys in a file (password: VALUE), quotes removed.
secrets() {
	sed -n 's/^[ -]*password:[ ]*//p' "$1" | sed 's/^"\(.*\)"$/\1/' |
		sed 's/\\"/"/g' | grep -v '^$' || true
}

for f in "$src"/config/*.yaml "$src"/docker/shardgate.yaml "$src"/tests/unit/config/good/*.yaml; do
	"$exe" --config "$f" --check >"$work/out" 2>"$work/err"
	rc=$?
	[ $rc -eq 0 ] || { fail "$f: exit $rc, want 0"; cat "$work/err" >&2; continue; }
	[ -s "$work/err" ] && fail "$f: wrote to stderr"
	grep -q '^backend:$' "$work/out" || fail "$f: no configuration printed"
	while IFS= read -r s; do
		[ "$s" = "<redacted>" ] && continue
		if grep -qF -- "$s" "$work/out"; then
			fail "$f: secret \"$s\" printed"
		fi
		grep -qF '"<redacted>"' "$work/out" || fail "$f: no placeholder"
	done < <(secrets "$f")
	if ! grep -qF '<redacted>' "$work/out"; then
		cp "$work/out" "$work/again.yaml"
		"$exe" --config "$work/again.yaml" --check >"$work/out2" 2>&1 ||
			fail "$f: printed configuration does not pass --check"
		cmp -s "$work/out" "$work/out2" || fail "$f: printing is not stable"
	else
		# The placeholder is refused, by key.
		"$exe" --config "$work/out" --check >/dev/null 2>"$work/err"
		[ $? -eq 2 ] || fail "$f: output with <redacted> was accepted"
		grep -q 'password: "<redacted>" is the placeholder' "$work/err" ||
			fail "$f: no message about the placeholder"
	fi
done

"$exe" --config "$work/missing.yaml" --check >"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 2 ] || fail "missing file: exit $rc, want 2"
grep -qx "$work/missing.yaml: cannot read: No such file or directory" "$work/err" ||
	fail "missing file: wrong message: $(cat "$work/err")"

[ $failures -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "ok: $n bad files, examples and the program's exit codes"
