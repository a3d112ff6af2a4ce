# bash completion for speakerctl (speakerd's control client).
# Install: copy to /usr/share/bash-completion/completions/speakerctl, or `source` it from ~/.bashrc.

_speakerctl() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    COMPREPLY=()

    local commands="status mute unmute toggle-mute volume say interrupt talk-start talk-end connect disconnect tool-result config reload devices version ping events watch help"
    local events="state transcript response_start response_done speech_started speech_stopped tool_call error config_reloaded volume mute levels"
    local keys="audio.device audio.capture audio.playback audio.rate audio.alsaConfig aec.enabled ai.backend ai.url ai.model ai.dialect ai.apiKeyFile ai.voice ai.instructions control.socket"

    case $prev in
        --socket)
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
            ;;
        --timeout | --levels)
            return 0
            ;;
    esac

    # The command is the first word that is neither an option nor an option's value.
    local i cmd="" at=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --socket | --timeout) ((i++)) ;;
            --) ;;
            -*) ;;
            *)
                cmd=${COMP_WORDS[i]}
                at=$i
                break
                ;;
        esac
    done

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--socket --json --timeout --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return 0
    fi

    local n=$((COMP_CWORD - at))
    case $cmd in
        config)
            if ((n == 1)); then
                COMPREPLY=($(compgen -W "get set" -- "$cur"))
            elif ((n == 2)); then
                COMPREPLY=($(compgen -W "$keys" -- "$cur"))
            fi
            ;;
        events)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--levels" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$events" -- "$cur"))
            fi
            ;;
        watch)
            ((n == 1)) && COMPREPLY=($(compgen -W "--levels" -- "$cur"))
            ;;
        volume)
            ((n == 1)) && COMPREPLY=($(compgen -W "0 25 50 75 100 +10 -10" -- "$cur"))
            ;;
    esac
    return 0
}

complete -F _speakerctl speakerctl
