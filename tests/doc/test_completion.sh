#!/bin/bash
# The generated bash completion, sourced into a plain bash: commands,
# queue's subcommands, options, option arguments and file names.
set -u
. "$1" || exit 1

passed=0
failed=0

# Completes the words given (the last is the one under the cursor).
complete_words()
{
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_alertbridge 2>/dev/null
	echo "${COMPREPLY[*]}"
}

expect()
{
	local want=$1 got
	shift
	got=$(complete_words "$@")
	if [[ $got == "$want" ]]; then
		passed=$((passed + 1))
	else
		echo "FAIL: '$*' completes to '$got', not '$want'"
		failed=$((failed + 1))
	fi
}

complete -p alertbridge >/dev/null || {
	echo "FAIL: no completion registered for alertbridge"
	exit 1
}

expect "queue" alertbridge qu
expect "postmortem" alertbridge post
expect "serve send-test" alertbridge se
expect "list show retry drop" alertbridge queue ""
expect "retry" alertbridge queue re
expect "show" alertbridge queue -c /etc/x.yaml --dead sh
expect "" alertbridge queue list ""
expect "--dead" alertbridge queue list --de
expect "--resolve" alertbridge send-test --res
expect "--no-resolve" alertbridge send-test --no
expect "--route" alertbridge render --ro
expect "debug info warning error" alertbridge serve --log-level ""
expect "critical" alertbridge send-test --severity cr
expect "" alertbridge send-test --target ""
expect "render" alertbridge help ren

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
touch "$dir/alarm-message.json"
mkdir "$dir/state-dir"
expect "$dir/alarm-message.json" alertbridge render --message "$dir/alarm"
expect "$dir/state-dir" alertbridge postmortem KEY --store "$dir/st"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
