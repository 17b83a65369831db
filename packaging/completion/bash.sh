
# bash: complete migctl's words from __migctl_candidates (above).
_migctl() {
    local cur=${COMP_WORDS[COMP_CWORD]} c IFS=$'\n'
    local -a cands=()
    while IFS= read -r c; do
        cands+=("$c")
    done < <(__migctl_candidates "$COMP_CWORD" "${COMP_WORDS[@]}")
    case "${cands[0]:-}" in
        @files) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
        @dirs) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    esac
    COMPREPLY=($(compgen -W "${cands[*]}" -- "$cur"))
    return 0
}
complete -F _migctl migctl
