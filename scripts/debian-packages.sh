# Sourced by run.sh and test.sh: install Debian packages a feature needs, when running as root
# and they are missing; otherwise say which feature goes without them.
#   need_packages "what they are for" COMMAND... -- PACKAGE...
# A command counts as present on PATH or in /usr/sbin and /sbin (often not on a user's PATH).

has_command() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

need_packages() {
    local why="$1" missing=0 commands=() packages=()
    shift
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do commands+=("$1"); shift; done
    shift
    packages=("$@")
    for command in "${commands[@]}"; do has_command "$command" || missing=1; done
    [ "$missing" = 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq "${packages[@]}" >/dev/null \
            || { apt-get update -qq && apt-get install -y -qq "${packages[@]}" >/dev/null; }
    else
        echo "$(basename "$0"): ${commands[*]} not all found (apt-get install ${packages[*]}" \
            "as root); $why" >&2
    fi
}
