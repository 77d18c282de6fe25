#!/bin/sh
# wgu genkey / genpsk / pubkey against the real wg(8): same public keys,
# each accepts the other's keys, the same inputs rejected, the same warning
# about world-accessible files.  Needs no root and no network namespace.
#
# WGU_BIN: the wgu binary (default src/wgu).  Exits 77 when wg is missing.
WGU=${WGU_BIN:-src/wgu}
passed=0 failed=0

if ! command -v wg >/dev/null 2>&1; then
	echo "SKIP: wg (wireguard-tools) is not installed"
	exit 77
fi
if [ ! -x "$WGU" ]; then
	echo "FAIL: $WGU is not an executable (set WGU_BIN)"
	echo "0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sys_keys.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

ok() { passed=$((passed + 1)); echo "ok   $1"; }
not_ok() { failed=$((failed + 1)); echo "FAIL $1"; }
# check DESCRIPTION COMMAND...: one test, passing when COMMAND succeeds.
# (sh has no local variables: helpers must not reuse the name check_desc.)
check() {
	check_desc=$1
	shift
	if "$@"; then ok "$check_desc"; else not_ok "$check_desc"; fi
}

# A key is 43 base64 digits and '='; the 43rd digit carries 4 bits of key
# and 2 zero bits, so it is one of 16 characters.
is_key_format() {
	printf '%s\n' "$1" |
	    grep -Eq '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$'
}

random_b64() {
	head -c 32 /dev/urandom | base64
}

# Bytes 0 and 31 of a base64 key, in decimal.
first_byte() { printf '%s' "$1" | base64 -d | od -An -tu1 -N1 | tr -d ' '; }
last_byte() {
	printf '%s' "$1" | base64 -d | od -An -tu1 -j31 -N1 | tr -d ' '
}

# ---------------------------------------------------------------- pubkey
# Many keys: wg's own, random unclamped bytes, and fixed edge cases.
pubkey_agrees() {
	bad=0
	i=0
	while [ $i -lt 40 ]; do
		if [ $((i % 2)) -eq 0 ]; then k=$(wg genkey); else k=$(random_b64); fi
		a=$(printf '%s\n' "$k" | "$WGU" pubkey) || bad=$((bad + 1))
		b=$(printf '%s\n' "$k" | wg pubkey) || bad=$((bad + 1))
		if [ "$a" != "$b" ] || ! is_key_format "$a"; then
			echo "  pubkey differs for a private key (#$i)"
			bad=$((bad + 1))
		fi
		i=$((i + 1))
	done
	for k in AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
	    //////////////////////////////////////////8= \
	    AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=; do
		a=$(printf '%s\n' "$k" | "$WGU" pubkey)
		b=$(printf '%s\n' "$k" | wg pubkey)
		if [ -z "$a" ] || [ "$a" != "$b" ]; then
			echo "  pubkey differs for $k"
			bad=$((bad + 1))
		fi
	done
	[ $bad -eq 0 ]
}
check "wgu pubkey = wg pubkey on 43 keys" pubkey_agrees

# RFC 7748 section 6.1: Alice's private key and public key.
rfc_pubkey() {
	a=$(printf '%s' dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= |
	    "$WGU" pubkey)
	[ "$a" = hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= ]
}
check "wgu pubkey on RFC 7748 6.1's key" rfc_pubkey

# Inputs wg pubkey accepts: trailing whitespace and NULs after the key.
accepts_like_wg() {
	k=$(wg genkey)
	want=$(printf '%s' "$k" | wg pubkey)
	bad=0
	n=0
	for fmt in '%s' '%s\n' '%s\r\n' '%s  \t\n\n' '%s\0\0\n' '%s\v\f' \
	    '%s\n\n\n'; do
		# shellcheck disable=SC2059
		printf "$fmt" "$k" >"$tmp/in"
		a=$("$WGU" pubkey <"$tmp/in") || bad=$((bad + 1))
		b=$(wg pubkey <"$tmp/in") || bad=$((bad + 1))
		if [ "$a" != "$want" ] || [ "$b" != "$want" ]; then
			echo "  input form $n: wgu '$a' wg '$b'"
			bad=$((bad + 1))
		fi
		n=$((n + 1))
	done
	[ $bad -eq 0 ]
}
check "wgu pubkey accepts what wg pubkey accepts" accepts_like_wg

# One rejected input: wg must reject it too; wgu exits 1 with nothing on
# stdout and exactly one "wgu pubkey: " line on stderr, which does not
# repeat the input.
rejects() {
	what=$1
	"$WGU" pubkey <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	wg pubkey <"$tmp/in" >/dev/null 2>&1 && {
		echo "  $what: wg accepts it (test input is wrong)"
		return 1
	}
	[ $rc -eq 1 ] || { echo "  $what: exit $rc"; return 1; }
	[ ! -s "$tmp/out" ] || { echo "  $what: wrote stdout"; return 1; }
	if [ "$(wc -l <"$tmp/err")" -ne 1 ] ||
	    ! grep -q '^wgu pubkey: ' "$tmp/err"; then
		echo "  $what: stderr is not one line:"
		sed 's/^/    /' "$tmp/err"
		return 1
	fi
	if [ -s "$tmp/secret" ] && grep -qF -f "$tmp/secret" "$tmp/err"; then
		echo "  $what: stderr repeats the key"
		return 1
	fi
	return 0
}

bad_inputs() {
	k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
	printf '%s' "${k%=}" | cut -c3-20 >"$tmp/secret"
	bad=0
	n=0
	while IFS='|' read -r name fmt arg; do
		[ -n "$name" ] || continue
		# shellcheck disable=SC2059
		printf "$fmt" "$arg" >"$tmp/in"
		rejects "$name" || bad=$((bad + 1))
		n=$((n + 1))
	done <<EOF
empty|%s|
newline only|%s\n|
43 characters|%s\n|AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
45 characters|%s\n|AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A=
no padding|%s\n|AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A
not base64|%s\n|AAECAwQFBgc*CQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
base64url|%s\n|AAECAwQFBgc-CQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
not canonical|%s\n|AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=
leading space|%s\n| AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
trailing junk|%s x\n|AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
two keys|%s\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n|AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
hex key|%s\n|000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
NUL inside|AAECAwQFBgcI\0QoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n|
EOF
	echo "  $n bad inputs tried"
	rm -f "$tmp/secret"
	[ $bad -eq 0 ] && [ $n -eq 13 ]
}
check "bad keys rejected as wg rejects them, one line on stderr" bad_inputs

# Extra arguments: wg prints usage and exits 1; so does wgu, in one line.
extra_args() {
	bad=0
	for cmd in genkey genpsk pubkey; do
		"$WGU" $cmd extra </dev/null >"$tmp/out" 2>"$tmp/err"
		rc=$?
		wg $cmd extra </dev/null >/dev/null 2>&1 && bad=$((bad + 1))
		if [ $rc -ne 1 ] || [ -s "$tmp/out" ] ||
		    [ "$(wc -l <"$tmp/err")" -ne 1 ] ||
		    ! grep -q "^wgu $cmd: " "$tmp/err"; then
			echo "  wgu $cmd extra: exit $rc, stderr:"
			sed 's/^/    /' "$tmp/err"
			bad=$((bad + 1))
		fi
	done
	[ $bad -eq 0 ]
}
check "extra arguments: exit 1, one line on stderr" extra_args

# ---------------------------------------------------------------- genkey
genkey_valid() {
	bad=0
	i=0
	prev=
	while [ $i -lt 20 ]; do
		k=$("$WGU" genkey 2>"$tmp/err") || bad=$((bad + 1))
		is_key_format "$k" || { echo "  bad format: $k"; bad=$((bad + 1)); }
		[ "$k" != "$prev" ] || { echo "  same key twice"; bad=$((bad + 1)); }
		prev=$k
		# Clamped: byte 0 a multiple of 8, byte 31 in 64..127.
		b0=$(first_byte "$k")
		b31=$(last_byte "$k")
		if [ $((b0 % 8)) -ne 0 ] || [ $((b31 / 64)) -ne 1 ]; then
			echo "  not clamped: bytes $b0 .. $b31"
			bad=$((bad + 1))
		fi
		a=$(printf '%s\n' "$k" | wg pubkey) || bad=$((bad + 1))
		b=$(printf '%s\n' "$k" | "$WGU" pubkey) || bad=$((bad + 1))
		if [ -z "$a" ] || [ "$a" != "$b" ]; then
			echo "  wg and wgu disagree on a wgu key"
			bad=$((bad + 1))
		fi
		[ ! -s "$tmp/err" ] || { echo "  stderr on a pipe"; bad=$((bad + 1)); }
		i=$((i + 1))
	done
	[ $bad -eq 0 ]
}
check "wgu genkey: 20 distinct clamped keys, wg pubkey accepts them" \
    genkey_valid

genpsk_valid() {
	bad=0
	unclamped=0
	prev=
	i=0
	while [ $i -lt 20 ]; do
		k=$("$WGU" genpsk 2>"$tmp/err") || bad=$((bad + 1))
		is_key_format "$k" || { echo "  bad format: $k"; bad=$((bad + 1)); }
		[ "$k" != "$prev" ] || { echo "  same psk twice"; bad=$((bad + 1)); }
		prev=$k
		[ ! -s "$tmp/err" ] || bad=$((bad + 1))
		b0=$(first_byte "$k")
		b31=$(last_byte "$k")
		if [ $((b0 % 8)) -ne 0 ] || [ $((b31 / 64)) -ne 1 ]; then
			unclamped=$((unclamped + 1))
		fi
		# Any 32 bytes are a key to wg.
		printf '%s\n' "$k" | wg pubkey >/dev/null || bad=$((bad + 1))
		i=$((i + 1))
	done
	# A clamped-looking PSK has probability 1/32; 20 of them, 2^-100.
	[ $unclamped -gt 0 ] || { echo "  every psk looks clamped"; bad=$((bad + 1)); }
	[ $bad -eq 0 ]
}
check "wgu genpsk: 20 distinct unclamped 32-byte keys" genpsk_valid

# wgu's stdout output is exactly one line of 45 bytes, as wg's.
output_bytes() {
	n1=$("$WGU" genkey | wc -c)
	n2=$(wg genkey | wc -c)
	n3=$(wg genkey | "$WGU" pubkey | wc -c)
	[ "$n1" -eq 45 ] && [ "$n2" -eq 45 ] && [ "$n3" -eq 45 ]
}
check "output is 44 characters and a newline" output_bytes

# ---------------------------------------------------------------- files
# The permission string ("-rw-------"); our own file names, so ls is safe.
# shellcheck disable=SC2012
mode_of() { ls -ln "$1" | cut -c1-10; }

# wg genkey warns when the file is accessible to others (st_mode & S_IRWXO)
# but leaves the mode.  wgu prints the same two lines and also makes the
# file 0600, so the key is never left readable.
world_accessible_warning() {
	bad=0
	for cmd in genkey genpsk; do
		rm -f "$tmp/k1" "$tmp/k2"
		(umask 022; "$WGU" $cmd >"$tmp/k1" 2>"$tmp/e1") || bad=$((bad + 1))
		(umask 022; wg $cmd >"$tmp/k2" 2>"$tmp/e2") || bad=$((bad + 1))
		cmp -s "$tmp/e1" "$tmp/e2" || {
			echo "  $cmd: warning differs from wg's:"
			sed 's/^/    /' "$tmp/e1"
			bad=$((bad + 1))
		}
		grep -q '^Warning: writing to world accessible file\.$' \
		    "$tmp/e1" || bad=$((bad + 1))
		[ "$(mode_of "$tmp/k1")" = "-rw-------" ] || {
			echo "  $cmd: mode $(mode_of "$tmp/k1"), want -rw-------"
			bad=$((bad + 1))
		}
		is_key_format "$(cat "$tmp/k1")" || bad=$((bad + 1))
		if grep -qF -f "$tmp/k1" "$tmp/e1"; then
			echo "  $cmd: key on stderr"
			bad=$((bad + 1))
		fi
	done
	[ $bad -eq 0 ]
}
check "umask 022: same warning as wg, file made 0600" world_accessible_warning

private_file() {
	bad=0
	for mask in 077 027; do
		rm -f "$tmp/k1" "$tmp/k2"
		(umask $mask; "$WGU" genkey >"$tmp/k1" 2>"$tmp/e1")
		(umask $mask; wg genkey >"$tmp/k2" 2>"$tmp/e2")
		[ ! -s "$tmp/e1" ] || { echo "  umask $mask: warned"; bad=$((bad + 1)); }
		[ ! -s "$tmp/e2" ] || bad=$((bad + 1))
		[ "$(mode_of "$tmp/k1")" = "-rw-------" ] || {
			echo "  umask $mask: mode $(mode_of "$tmp/k1")"
			bad=$((bad + 1))
		}
		printf '%s\n' "$(cat "$tmp/k1")" | wg pubkey >/dev/null ||
		    bad=$((bad + 1))
	done
	rm -f "$tmp/k1"
	(umask 077; "$WGU" genkey >"$tmp/k1")
	[ "$(mode_of "$tmp/k1")" = "-rw-------" ] || {
		echo "  umask 077: mode $(mode_of "$tmp/k1")"
		bad=$((bad + 1))
	}
	[ $bad -eq 0 ]
}
check "umask 077 and 027 both give 0600, silently" private_file

# wg ignores write errors; wgu reports them.
write_error() {
	[ -w /dev/full ] || return 0
	"$WGU" genkey >/dev/full 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
}
check "a full disk is an error, not a lost key" write_error

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
