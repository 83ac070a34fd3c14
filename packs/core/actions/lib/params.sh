# Shared by the core pack's shell actions: reads the action's dotenv parameter document into
# shell variables named P_<key>.
#
# Rules: the document comes from stdin, or from $ATTUNE_PARAMETER_FILE when the delivery is
# "file". Each entry is key='value' with ' written as '\'' (a value may span lines). Values are
# decoded by string substitution, never eval'd, so a hostile value cannot run code. The worker
# writes every key as a shell identifier (a.b becomes a_b); any other key is skipped.

attune_read_params() {
    local source=/dev/stdin
    if [ "${ATTUNE_PARAMETER_DELIVERY:-stdin}" = file ] && [ -n "${ATTUNE_PARAMETER_FILE:-}" ]; then
        source=$ATTUNE_PARAMETER_FILE
    fi
    local line entry="" value
    while IFS= read -r line || [ -n "$line" ]; do
        if [ -z "$entry" ]; then
            case $line in '' | '#'*) continue ;; esac
            entry=$line
        else
            entry=$entry$'\n'$line
        fi
        value=${entry#*=}
        if _attune_value_complete "$value"; then
            _attune_assign "$entry"
            entry=""
        fi
    done <"$source"
    if [ -n "$entry" ]; then
        _attune_assign "$entry"
    fi
}

# A quoted value is complete when, once every escaped quote '\'' is removed, exactly the
# opening and the closing quote remain.
_attune_value_complete() {
    local value=$1 bare quotes
    case $value in "'"*) ;; *) return 0 ;; esac
    bare=${value//\'\\\'\'/}
    quotes=${bare//[!\']/}
    [ "${#quotes}" -eq 2 ] && [ "${bare: -1}" = "'" ]
}

_attune_assign() {
    local entry=$1 key value
    key=${entry%%=*}
    value=${entry#*=}
    [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || return 0
    case $value in
        "'"*"'")
            value=${value:1:${#value}-2}
            value=${value//\'\\\'\'/\'}
            ;;
    esac
    printf -v "P_$key" '%s' "$value"
}
