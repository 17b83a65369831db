
# zsh: complete migctl's words from __migctl_candidates (above), run with
# sh's rules (options restored on return).
__migctl_candidates_zsh() {
    emulate -L sh
    __migctl_candidates "$@"
}
_migctl() {
    local -a cands
    cands=("${(@f)$(__migctl_candidates_zsh $((CURRENT - 1)) "${words[@]}")}")
    case ${cands[1]} in
        @files) _files; return ;;
        @dirs) _files -/; return ;;
    esac
    compadd -a cands
}
# Autoloaded as a completion function, this file runs inside completion
# (where $compstate exists); sourced by a test, it only defines functions.
(( ${+compstate} )) && _migctl "$@"
