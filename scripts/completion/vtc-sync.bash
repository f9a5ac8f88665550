# bash completion for vtc-sync(1)                          -*- shell-script -*-
#
# Completes commands, subcommands and each command's options as
# `vtc-sync [command] --help` lists them (tests/e2e/test_docs.py checks that
# they agree), the fixed values of --log-format, --state and --kind, file
# names after -c, --config, --db and backup, and job ids after `queue show`,
# `queue retry` and `queue discard` (read with `vtc-sync queue list --json`
# from the database the command line names). Needs nothing but bash itself.

# Options that take a value (the next word, or --option=value).
_vtc_sync_with_value='-c --config --db --log-format --max-jobs --max-seconds
--state --member --kind --after --limit --since --before --event-id'

# Prints the subcommands of command $1 (nothing for a command without).
_vtc_sync_subcommands()
{
    case $1 in
        queue) echo 'list show retry discard' ;;
        outcomes) echo 'list prune' ;;
        records) echo 'list show' ;;
        audit) echo 'verify skip' ;;
    esac
}

# Prints the options of the command path $1 ("" for the program itself).
_vtc_sync_options()
{
    case $1 in
        '') echo '-c --config --db --log-format -v -q --version -h --help' ;;
        tick) echo '--dry-run --json --max-jobs --max-seconds' ;;
        status) echo '--json' ;;
        'queue list') echo '--state --member --kind --after --limit --json' ;;
        'queue show') echo '--json' ;;
        'queue retry') echo '--all-failed --member --dry-run --yes' ;;
        'queue discard') echo '--all-failed --member --dry-run --yes --force' ;;
        reconcile) echo '--dry-run' ;;
        'outcomes list') echo '--since --limit --json' ;;
        'outcomes prune') echo '--before --yes' ;;
        'audit verify') echo '--json' ;;
        'audit skip') echo '--event-id --yes' ;;
        'records list') echo '--json' ;;
        'records show') echo '--json' ;;
        drift) echo '--json' ;;
        backup) echo '' ;;
        identity) echo '--generate' ;;
    esac
}

# COMPREPLY = the words of $1 that start with $2.
_vtc_sync_words()
{
    local IFS=$' \t\n'
    COMPREPLY=($(compgen -W "$1" -- "$2"))
}

# COMPREPLY = file and directory names that start with $1.
_vtc_sync_files()
{
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$1"))
}

# COMPREPLY = ids of the jobs in state $2 (pending, failed, all) that start
# with the word being completed; $1... after the state: the global options of
# the command line (config, database). Job ids may contain ':', which bash
# treats as a word break, so the word is taken from the line itself.
_vtc_sync_job_ids()
{
    local prog=$1 state=$2
    shift 2
    local line=${COMP_LINE:0:COMP_POINT}
    local word=${line##*[[:space:]]}
    local ids
    ids=$("$prog" "$@" queue list --state "$state" --limit 1000 --json \
        2>/dev/null </dev/null | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$ids" -- "$word"))
    if [[ $word == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon_prefix=${word%"${word##*:}"}
        local i
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=${COMPREPLY[i]#"$colon_prefix"}
        done
    fi
}

_vtc_sync()
{
    COMPREPLY=()
    local cword=$COMP_CWORD
    local cur=${COMP_WORDS[cword]}
    local prev=''
    ((cword > 0)) && prev=${COMP_WORDS[cword - 1]}

    # --option=value: bash splits the word at '=' (COMP_WORDBREAKS).
    if [[ $cur == '=' ]]; then
        cur=''
    elif [[ $prev == '=' ]] && ((cword > 1)); then
        prev=${COMP_WORDS[cword - 2]}
    fi

    case $prev in
        -c | --config | --db)
            _vtc_sync_files "$cur"
            return 0
            ;;
        --log-format)
            _vtc_sync_words 'text json' "$cur"
            return 0
            ;;
        --state)
            _vtc_sync_words 'pending in_flight failed all' "$cur"
            return 0
            ;;
        --kind)
            _vtc_sync_words 'publish update depart delete withdraw retire' "$cur"
            return 0
            ;;
        --max-jobs | --max-seconds | --member | --after | --limit | --since | --before)
            return 0 # a number, a DID or a token: nothing to offer
            ;;
    esac

    # Find the command and subcommand, stepping over options and their
    # values; keep the options that say where the database is.
    local i w cmd='' sub=''
    local -a globals=()
    for ((i = 1; i < cword; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == -* && ${COMP_WORDS[i + 1]} == '=' ]]; then
            case $w in
                -c | --config | --db) globals+=("$w=${COMP_WORDS[i + 2]}") ;;
            esac
            ((i += 2))
            continue
        fi
        case $w in
            -c | --config | --db)
                globals+=("$w" "${COMP_WORDS[i + 1]}")
                ((i++))
                continue
                ;;
            -*)
                [[ " ${_vtc_sync_with_value//$'\n'/ } " == *" $w "* ]] && ((i++))
                continue
                ;;
        esac
        if [[ -z $cmd ]]; then
            cmd=$w
        elif [[ -z $sub && -n $(_vtc_sync_subcommands "$cmd") ]]; then
            sub=$w
        fi
    done

    local subs
    subs=$(_vtc_sync_subcommands "$cmd")

    if [[ $cur == -* ]]; then
        if [[ -z $cmd ]]; then
            _vtc_sync_words "$(_vtc_sync_options '')" "$cur"
        elif [[ -n $subs && -z $sub ]]; then
            _vtc_sync_words '-h --help' "$cur"
        else
            # Global options may follow the command too.
            _vtc_sync_words "$(_vtc_sync_options "$cmd${sub:+ $sub}")
                -c --config --db --log-format -v -q -h --help" "$cur"
        fi
        return 0
    fi

    if [[ -z $cmd ]]; then
        _vtc_sync_words 'tick status queue reconcile records drift outcomes audit backup identity' "$cur"
        return 0
    fi
    if [[ -n $subs && -z $sub ]]; then
        _vtc_sync_words "$subs" "$cur"
        return 0
    fi
    case "$cmd $sub" in
        'backup ')
            _vtc_sync_files "$cur"
            ;;
        'queue show')
            _vtc_sync_job_ids "${COMP_WORDS[0]}" all "${globals[@]}"
            ;;
        'queue retry' | 'queue discard')
            _vtc_sync_job_ids "${COMP_WORDS[0]}" failed "${globals[@]}"
            ;;
    esac
    return 0
}

complete -F _vtc_sync vtc-sync
