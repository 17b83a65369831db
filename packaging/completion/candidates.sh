# candidates.sh: what migctl's bash and zsh completions offer, in shell code
# both shells run (no arrays, no `local`: every variable is __mc_-prefixed).
# The build joins it with bash.sh or zsh.sh into one file per shell. Verbs,
# flags, models and profiles are asked of migctl itself, so completion knows
# exactly what the installed program knows; config names are read from the
# file given with -f.
#
# __migctl_candidates INDEX WORD0 WORD1 ...: the candidates for word INDEX
# (0-based; WORD0 is "migctl"), one per line, unfiltered (the shell matches
# the prefix). "@files" / "@dirs" alone ask the shell for path names.
__migctl_candidates() {
    __mc_i=$1
    shift
    __mc_verb="" __mc_sub="" __mc_file="" __mc_gpu="" __mc_prev="" __mc_n=0 __mc_value=0
    for __mc_w in "$@"; do
        [ "$__mc_n" -eq "$__mc_i" ] && break
        if [ "$__mc_n" -gt 0 ]; then
            case $__mc_prev in
                -f | --config-file) __mc_file=$__mc_w ;;
                -i) __mc_gpu=$__mc_w ;;
            esac
            if [ "$__mc_value" = 1 ]; then
                __mc_value=0
            else
                case $__mc_w in
                    # flags that take a value: the next word is not a verb
                    -f | --config-file | -c | --selected-config | -w | --workloads | --fleet | -a | --add | \
                        -k | --hooks | --hook-timeout | --journal | --lock | -i | --gi | --ci | -m | --model | \
                        -o | --output-format | --output | --emit-config | --strategy | --backend | --sim | \
                        --gpus | --count | --fail-op | --rc | --kill-op) __mc_value=1 ;;
                    -*) ;;
                    *)
                        if [ -z "$__mc_verb" ]; then
                            __mc_verb=$__mc_w
                        elif [ -z "$__mc_sub" ]; then
                            __mc_sub=$__mc_w
                        fi
                        ;;
                esac
            fi
        fi
        __mc_prev=$__mc_w
        __mc_n=$((__mc_n + 1))
    done
    __mc_cur=""
    [ "$__mc_n" -eq "$__mc_i" ] && [ $# -gt "$__mc_i" ] && eval "__mc_cur=\${$((__mc_i + 1))}"

    case $__mc_prev in
        --backend) printf '%s\n' nvml sim; return ;;
        --strategy) printf '%s\n' mixed single; return ;;
        -o | --output-format) printf '%s\n' yaml json; return ;;
        -m | --model) command migctl models 2>/dev/null | awk 'NR > 1 {print $1}'; return ;;
        --gpus) command migctl models 2>/dev/null | awk 'NR > 1 {print "1x" $1; print "8x" $1}'; return ;;
        --emit-config) echo @dirs; return ;;
        -c | --selected-config)
            # the top-level keys under mig-configs: in the -f file
            [ -n "$__mc_file" ] && [ -r "$__mc_file" ] && awk '
                /^mig-configs:/ {m = 1; next}
                m && /^[^ #]/ {m = 0}
                m && /^  [^ #-][^:]*:/ {sub(/^  /, ""); sub(/:.*/, ""); gsub(/"/, ""); print}' "$__mc_file"
            return ;;
        -f | --config-file | -w | --workloads | --fleet | -a | --add | -k | --hooks | --journal | \
            --lock | --sim | --output) echo @files; return ;;
        -i | --gi | --ci | --hook-timeout | --count | --fail-op | --rc | --kill-op) return ;;
    esac
    case $__mc_cur in
        -*)
            if [ -z "$__mc_verb" ]; then
                printf '%s\n' --backend --sim --no-color --version --help
            else
                command migctl "$__mc_verb" --help 2>/dev/null |
                    grep -oE -- '(^|[][ ,|(])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[][ ,|(]//' | sort -u
            fi
            return ;;
    esac
    if [ -z "$__mc_verb" ]; then
        command migctl --help 2>/dev/null | sed -n '/^verbs:/,/^$/p' | awk 'NF >= 2 {print $1}'
        return
    fi
    case $__mc_verb in
        sim) [ -z "$__mc_sub" ] && printf '%s\n' init procs fault reboot show ;;
        k8s) [ -z "$__mc_sub" ] && echo labels ;;
        create)
            # profile names of GPU -i N, as `migctl profiles -i N` lists them
            [ -n "$__mc_gpu" ] && command migctl profiles -i "$__mc_gpu" 2>/dev/null |
                awk '/^PROFILE/ {p = 1; next} p && NF {print $1}'
            ;;
        mode) [ -z "$__mc_sub" ] && printf '%s\n' on off ;;
        help) command migctl --help 2>/dev/null | sed -n '/^verbs:/,/^$/p' | awk 'NF >= 2 {print $1}' ;;
    esac
    return 0
}
