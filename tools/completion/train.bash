# bash completion for cliff's train (installed by `make install` as
# share/bash-completion/completions/train). Completes the options, the values
# of the options that take a word, solver files (.prototxt .pt .txt .yaml
# .yml) for SOLVER, snapshot states for --resume/--snapshot (and `auto`), and
# weights for --weights.
_cliff_train()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    # the options as the program itself lists them ($1: the command being
    # completed), so the list cannot drift from train --help
    local opts
    opts=$("$1" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]+' | sort -u)
    case $prev in
        --snapshot|--resume)
            COMPREPLY=($(compgen -f -X '!*.@(solverstate|solverstate.h5)' -- "$cur")
                       $(compgen -d -- "$cur"))
            [ "$prev" = --resume ] && COMPREPLY+=($(compgen -W auto -- "$cur"))
            return ;;
        --weights)
            COMPREPLY=($(compgen -f -X '!*.@(caffemodel|caffemodel.h5)' -- "$cur")
                       $(compgen -d -- "$cur"))
            return ;;
        --config-format) COMPREPLY=($(compgen -W "text yaml" -- "$cur")); return ;;
        --log-format) COMPREPLY=($(compgen -W "human kv json" -- "$cur")); return ;;
        --sigint-effect|--sighup-effect)
            COMPREPLY=($(compgen -W "snapshot stop none" -- "$cur")); return ;;
        --iterations|--set) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -X '!*.@(prototxt|pt|txt|yaml|yml)' -- "$cur") $(compgen -d -- "$cur"))
}
shopt -s extglob
complete -o filenames -F _cliff_train train
