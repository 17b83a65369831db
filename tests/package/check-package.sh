#!/usr/bin/env bash
# check-package.sh: install the built .deb into a clean root and check what a
# user gets: `migctl --version`, the shim in its own directory (and working),
# `man migctl-apply` and a page per verb, bash completion of `migctl ap<TAB>`
# (and of flags, models, profiles and config names), zsh completion's
# candidates, and `systemd-analyze verify` of the unit.
#
#   tests/package/check-package.sh DEB
#
# How it installs: `dpkg --root=DIR -i` into an empty temp root, not `dpkg -i`
# on the machine itself. It is the real dpkg unpacking the real package (file
# list, permissions, paths), but it leaves the machine's package database and
# its dpkg lock alone (CI shares the machine with other jobs, some running
# apt-get) and needs no `dpkg -r` to clean up, even when a check fails. The
# price: the temp root has no libc, libyaml or jansson, so dependencies are not
# resolved there (--force-depends; the Depends line dpkg-shlibdeps computed is
# checked instead) and the installed binary runs with the machine's libraries.
set -euo pipefail
deb=$(readlink -f "$1")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "check-package: FAIL: $*" >&2; exit 1; }
pass=0
ok() { echo "check-package: ok: $*"; pass=$((pass + 1)); }

mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends -i "$deb" >"$root/dpkg.log" 2>&1 || { cat "$root/dpkg.log"; fail "dpkg -i"; }
dpkg --root="$root" -s migctl | grep -q '^Status: install ok installed' || fail "dpkg -s: not installed"
dpkg-deb -f "$deb" Depends | grep -q 'libyaml-0-2' || fail "Depends lacks libyaml-0-2"
dpkg-deb -f "$deb" Depends | grep -q 'libjansson4' || fail "Depends lacks libjansson4"
ok "dpkg --root -i: installed; Depends: $(dpkg-deb -f "$deb" Depends)"

bin="$root/usr/bin/migctl"
version=$("$bin" --version)
[ "$version" = "migctl $(dpkg-deb -f "$deb" Version)" ] || fail "migctl --version: '$version'"
ok "migctl --version: $version"

# The shim: in its own directory, off the default library path, and working.
shim="$root/usr/lib/migctl/shim/libnvidia-ml.so.1"
[ -f "$shim" ] || fail "no $shim"
[ "$(find "$root" -name 'libnvidia-ml.so*' | wc -l)" -eq 1 ] || fail "a second libnvidia-ml in the package"
export MIGCTL_SIM_STATE="$root/sim.json"
"$bin" sim init --gpus 2xH100-SXM5-80GB >/dev/null
MIGCTL_NVML_LIB="$shim" "$bin" --backend nvml status | grep -q '^Backend: nvml' || fail "nvml over the shim"
ok "shim at /usr/lib/migctl/shim, answers the nvml backend"

# Man pages: migctl-apply renders, and every verb of --help has a page.
export MANPAGER=cat PAGER=cat MANWIDTH=100
page=$(man --manpath="$root/usr/share/man" migctl-apply 2>/dev/null) || fail "man migctl-apply"
grep -q 'migctl-apply - make GPUs match a mig-parted v1 config' <<<"$page" || fail "man migctl-apply: no NAME"
grep -q -- '--dry-run' <<<"$page" || fail "man migctl-apply: no --dry-run"
verbs=$("$bin" --help | sed -n '/^verbs:/,/^$/p' | awk 'NF >= 2 {print $1}')
for v in $verbs; do
    [ -f "$root/usr/share/man/man1/migctl-$v.1.gz" ] || fail "no man page for $v"
    # every long option of the verb's --help is on its page
    for o in $("$bin" "$v" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
        man --manpath="$root/usr/share/man" "migctl-$v" 2>/dev/null | grep -q -- "$o" ||
            fail "man migctl-$v lacks $o"
    done
done
ok "man migctl-apply renders; $(wc -w <<<"$verbs") verb pages carry every option of --help"

# bash completion, called as bash calls it.
comp="$root/usr/share/bash-completion/completions/migctl"
cfg="$root/usr/share/doc/migctl/examples/config.yaml"
bash_complete() { # WORD... (the last one is completed)
    PATH="$root/usr/bin:$PATH" bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _migctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
[ "$(bash_complete migctl ap)" = apply ] || fail "bash: migctl ap<TAB> gave '$(bash_complete migctl ap)'"
[ "$(bash_complete migctl apply --dry)" = --dry-run ] || fail "bash: apply --dry<TAB>"
bash_complete migctl profiles --model H100-SXM5 | grep -x H100-SXM5-80GB >/dev/null || fail "bash: --model <TAB>"
"$bin" mode -i 0 on >/dev/null
bash_complete migctl create -i 0 3g | grep -x 3g.40gb >/dev/null || fail "bash: create -i 0 3g<TAB>"
bash_complete migctl apply -f "$cfg" -c all-b | grep -x all-balanced >/dev/null || fail "bash: -c <TAB> from -f FILE"
ok "bash: migctl ap<TAB> -> apply; flags, models, profiles and -f FILE's config names"

# zsh completion: the file parses, and its candidates (what compadd gets).
zcomp="$root/usr/share/zsh/vendor-completions/_migctl"
zsh -n "$zcomp" || fail "zsh: _migctl does not parse"
zc=$(PATH="$root/usr/bin:$PATH" zsh -fc 'source "$1"; shift; __migctl_candidates_zsh "$@"' _ "$zcomp" 1 migctl ap)
grep -qx apply <<<"$zc" || fail "zsh: no 'apply' among the verbs"
zc=$(PATH="$root/usr/bin:$PATH" zsh -fc 'source "$1"; shift; __migctl_candidates_zsh "$@"' _ "$zcomp" 5 migctl apply -f "$cfg" -c "")
grep -qx all-balanced <<<"$zc" || fail "zsh: config names from -f FILE"
# The glue: _migctl as the completion system calls it (words, CURRENT), with
# stand-ins for compadd and _files that print what they would offer.
zglue() { # CURRENT WORD...
    PATH="$root/usr/bin:$PATH" zsh -fc 'source "$1"; shift
        compadd() { [[ $1 == -a ]] && print -rl -- "${(@P)2}" || print -rl -- "$@" }
        _files() { print -r -- "@files $*" }
        CURRENT=$1; shift; words=("$@"); _migctl' _ "$zcomp" "$@"
}
zglue 2 migctl ap | grep -x apply >/dev/null || fail "zsh: _migctl offers no apply"
zglue 6 migctl apply -f "$cfg" -c "" | grep -x all-balanced >/dev/null || fail "zsh: _migctl -c names"
[ "$(zglue 4 migctl apply -f "")" = "@files " ] || fail "zsh: -f does not complete files"
ok "zsh: _migctl parses; offers verbs, -f FILE's config names and files through compadd/_files"

# The unit, verified against the installed tree (its ExecStart must exist there).
unit=usr/lib/systemd/system/migctl-apply.service
grep -q '^ExecStart=/usr/bin/migctl apply' "$root/$unit" || fail "unit: ExecStart not /usr/bin/migctl"
systemd-analyze verify --root="$root" migctl-apply.service || fail "systemd-analyze verify"
# ... and the check can fail: the same unit naming a binary that is not there.
sed 's|^ExecStart=/usr/bin/migctl|ExecStart=/usr/bin/migctl-missing|' "$root/$unit" >"$root/usr/lib/systemd/system/migctl-broken.service"
if systemd-analyze verify --root="$root" migctl-broken.service >/dev/null 2>&1; then
    fail "systemd-analyze verify passed a unit whose binary is missing"
fi
ok "systemd-analyze verify migctl-apply.service"

echo "check-package: $pass passed, 0 failed"
