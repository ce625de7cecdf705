# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_drover_global_optspecs
    string join \n h/help V/version
end

function __fish_drover_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_drover_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_drover_using_subcommand
    set -l cmd (__fish_drover_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c drover -n "__fish_drover_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drover -n "__fish_drover_needs_command" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_needs_command" -f -a "run" -d 'Run a playbook against the inventory'
complete -c drover -n "__fish_drover_needs_command" -f -a "exec" -d 'Run one command on the hosts a pattern selects, no playbook needed'
complete -c drover -n "__fish_drover_needs_command" -f -a "check" -d 'Validate a playbook and print every host\'s rendered commands; connects to nothing'
complete -c drover -n "__fish_drover_needs_command" -f -a "watch" -d 'Watch the fleet: the play\'s tasks as health checks, each host on its level\'s interval'
complete -c drover -n "__fish_drover_needs_command" -f -a "inventory" -d 'Show the inventory: hosts, groups and resolved variables'
complete -c drover -n "__fish_drover_needs_command" -f -a "history" -d 'List the recorded runs: id, start, playbook, hosts per status, duration, exit code'
complete -c drover -n "__fish_drover_needs_command" -f -a "report" -d 'Past runs\' reports: show one, diff two (drift), merge shards, write an HTML page'
complete -c drover -n "__fish_drover_needs_command" -f -a "config" -d 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from'
complete -c drover -n "__fish_drover_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drover -n "__fish_drover_using_subcommand run" -s i -l inventory -d 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)' -r -F
complete -c drover -n "__fish_drover_using_subcommand run" -s l -l limit -d 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line' -r
complete -c drover -n "__fish_drover_using_subcommand run" -s e -l extra-vars -d 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l platforms -d 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key' -r -F
complete -c drover -n "__fish_drover_using_subcommand run" -l tags -d 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l skip-tags -d 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag' -r
complete -c drover -n "__fish_drover_using_subcommand run" -s u -l user -d 'Remote user for hosts whose inventory sets none (Ansible\'s -u: inventory `user` wins)' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l start-at-task -d 'Not supported: drover runs every task of a play' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l batch-size -d 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l strategy -d 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]' -r -f -a "batched\t'A batch connects, runs and disconnects before the next batch starts'
rolling\t'A window of `concurrency` hosts; the next host starts as one ends'"
complete -c drover -n "__fish_drover_using_subcommand run" -s f -l concurrency -l forks -d 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l connect-timeout -d 'Per connection attempt [default: 10s]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l command-timeout -d 'Per command, output included; then what it started is killed (a task\'s `timeout` overrides it) [default: 8s]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l host-timeout -d 'Whole-host deadline; a command it cuts short is killed [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l batch-pause -d 'Wait between batches [default: 0s]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l rate -d 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l burst -d 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l gateway-rate -d 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l retries -d 'Connection attempts after the first, for transient failures only [default: 2]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l backoff -d 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l backoff-cap -d 'Longest wait between connection attempts [default: 60s]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l breaker-threshold -d 'Consecutive transport failures that open a host\'s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l breaker-cooldown -d 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l max-fail-percentage -d 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l min-hosts-done -d 'Finished hosts needed before max_fail_percentage is judged [default: 1]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l any-errors-fatal -d 'Stop starting hosts at the first failed host (exit 3) [default: false]' -r -f -a "true\t''
false\t''"
complete -c drover -n "__fish_drover_using_subcommand run" -l state-dir -d 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]' -r -F
complete -c drover -n "__fish_drover_using_subcommand run" -l keep-runs -d 'Runs kept in the history; older ones are pruned after each run' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l keep-for -d 'Also prune runs older than this, e.g. 30d, 12h [default: no age limit]' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l diff-against -d 'After the run, print its drift against REF (a run id, `last`, `last~N`, or a report file)' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l retry-failed -d 'Run only the hosts that failed, were unreachable or were cancelled in REF (a report file, a run id, `last`)' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l shard -d 'Run one part K of N of the selected hosts, split by a stable hash of the host name' -r
complete -c drover -n "__fish_drover_using_subcommand run" -l report -d 'Write the JSON report here, atomically, also when interrupted (`-`: stdout)' -r -F
complete -c drover -n "__fish_drover_using_subcommand run" -l junit -d 'Write JUnit XML here, one test case per host × task (`-`: stdout)' -r -F
complete -c drover -n "__fish_drover_using_subcommand run" -l html -d 'Write a self-contained HTML page of the run here (atomically): timeline, host table, outputs, errors, drift with --diff-against' -r -F
complete -c drover -n "__fish_drover_using_subcommand run" -l events -d 'Stream every event as one JSON line to FILE, or to stdout with `-`' -r -F
complete -c drover -n "__fish_drover_using_subcommand run" -l color -d 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c drover -n "__fish_drover_using_subcommand run" -s k -l ask-pass -d 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
complete -c drover -n "__fish_drover_using_subcommand run" -l check -d 'Render and plan every command, connect to nothing (what `drover check` does)'
complete -c drover -n "__fish_drover_using_subcommand run" -l syntax-check -d 'Validate the playbook and render every command, connect to nothing (as `drover check`)'
complete -c drover -n "__fish_drover_using_subcommand run" -l list-hosts -d 'Print the hosts each play would run on, connect to nothing'
complete -c drover -n "__fish_drover_using_subcommand run" -l step -d 'Not supported: drover does not ask before each task'
complete -c drover -n "__fish_drover_using_subcommand run" -l reset-breakers -d 'Forget every breaker of this inventory before the run'
complete -c drover -n "__fish_drover_using_subcommand run" -l no-history -d 'Do not record this run in the history'
complete -c drover -n "__fish_drover_using_subcommand run" -s v -l verbose -d 'Print every task (-v), the connector\'s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr'
complete -c drover -n "__fish_drover_using_subcommand run" -s q -l quiet -d 'Print only the summary (on a terminal: only the overall bar while running)'
complete -c drover -n "__fish_drover_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drover -n "__fish_drover_using_subcommand run" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand exec" -s i -l inventory -d 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)' -r -F
complete -c drover -n "__fish_drover_using_subcommand exec" -s l -l limit -d 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -s e -l extra-vars -d 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l platforms -d 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key' -r -F
complete -c drover -n "__fish_drover_using_subcommand exec" -l tags -d 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l skip-tags -d 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -s u -l user -d 'Remote user for hosts whose inventory sets none (Ansible\'s -u: inventory `user` wins)' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l output -d '`json`: print the report on stdout, for scripts (the summary goes to stderr)' -r -f -a "text\t'Progress on stderr, the summary on stdout'
json\t'The JSON report on stdout and nothing else there'"
complete -c drover -n "__fish_drover_using_subcommand exec" -l batch-size -d 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l strategy -d 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]' -r -f -a "batched\t'A batch connects, runs and disconnects before the next batch starts'
rolling\t'A window of `concurrency` hosts; the next host starts as one ends'"
complete -c drover -n "__fish_drover_using_subcommand exec" -s f -l concurrency -l forks -d 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l connect-timeout -d 'Per connection attempt [default: 10s]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l command-timeout -d 'Per command, output included; then what it started is killed (a task\'s `timeout` overrides it) [default: 8s]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l host-timeout -d 'Whole-host deadline; a command it cuts short is killed [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l batch-pause -d 'Wait between batches [default: 0s]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l rate -d 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l burst -d 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l gateway-rate -d 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l retries -d 'Connection attempts after the first, for transient failures only [default: 2]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l backoff -d 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l backoff-cap -d 'Longest wait between connection attempts [default: 60s]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l breaker-threshold -d 'Consecutive transport failures that open a host\'s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l breaker-cooldown -d 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l max-fail-percentage -d 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l min-hosts-done -d 'Finished hosts needed before max_fail_percentage is judged [default: 1]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l any-errors-fatal -d 'Stop starting hosts at the first failed host (exit 3) [default: false]' -r -f -a "true\t''
false\t''"
complete -c drover -n "__fish_drover_using_subcommand exec" -l state-dir -d 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]' -r -F
complete -c drover -n "__fish_drover_using_subcommand exec" -l keep-runs -d 'Runs kept in the history; older ones are pruned after each run' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l keep-for -d 'Also prune runs older than this, e.g. 30d, 12h [default: no age limit]' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l diff-against -d 'After the run, print its drift against REF (a run id, `last`, `last~N`, or a report file)' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l retry-failed -d 'Run only the hosts that failed, were unreachable or were cancelled in REF (a report file, a run id, `last`)' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l shard -d 'Run one part K of N of the selected hosts, split by a stable hash of the host name' -r
complete -c drover -n "__fish_drover_using_subcommand exec" -l report -d 'Write the JSON report here, atomically, also when interrupted (`-`: stdout)' -r -F
complete -c drover -n "__fish_drover_using_subcommand exec" -l junit -d 'Write JUnit XML here, one test case per host × task (`-`: stdout)' -r -F
complete -c drover -n "__fish_drover_using_subcommand exec" -l html -d 'Write a self-contained HTML page of the run here (atomically): timeline, host table, outputs, errors, drift with --diff-against' -r -F
complete -c drover -n "__fish_drover_using_subcommand exec" -l events -d 'Stream every event as one JSON line to FILE, or to stdout with `-`' -r -F
complete -c drover -n "__fish_drover_using_subcommand exec" -l color -d 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c drover -n "__fish_drover_using_subcommand exec" -s k -l ask-pass -d 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
complete -c drover -n "__fish_drover_using_subcommand exec" -l reset-breakers -d 'Forget every breaker of this inventory before the run'
complete -c drover -n "__fish_drover_using_subcommand exec" -l no-history -d 'Do not record this run in the history'
complete -c drover -n "__fish_drover_using_subcommand exec" -s v -l verbose -d 'Print every task (-v), the connector\'s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr'
complete -c drover -n "__fish_drover_using_subcommand exec" -s q -l quiet -d 'Print only the summary (on a terminal: only the overall bar while running)'
complete -c drover -n "__fish_drover_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drover -n "__fish_drover_using_subcommand exec" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand check" -s i -l inventory -d 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)' -r -F
complete -c drover -n "__fish_drover_using_subcommand check" -s l -l limit -d 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line' -r
complete -c drover -n "__fish_drover_using_subcommand check" -s e -l extra-vars -d 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)' -r
complete -c drover -n "__fish_drover_using_subcommand check" -l platforms -d 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key' -r -F
complete -c drover -n "__fish_drover_using_subcommand check" -l tags -d 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too' -r
complete -c drover -n "__fish_drover_using_subcommand check" -l skip-tags -d 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag' -r
complete -c drover -n "__fish_drover_using_subcommand check" -s u -l user -d 'Remote user for hosts whose inventory sets none (Ansible\'s -u: inventory `user` wins)' -r
complete -c drover -n "__fish_drover_using_subcommand check" -s k -l ask-pass -d 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
complete -c drover -n "__fish_drover_using_subcommand check" -l list-hosts -d 'Print only the hosts each play would run on'
complete -c drover -n "__fish_drover_using_subcommand check" -l syntax-check -d 'Accepted for Ansible habit: `check` validates and renders anyway'
complete -c drover -n "__fish_drover_using_subcommand check" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand check" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand watch" -s i -l inventory -d 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)' -r -F
complete -c drover -n "__fish_drover_using_subcommand watch" -s l -l limit -d 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -s e -l extra-vars -d 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l platforms -d 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key' -r -F
complete -c drover -n "__fish_drover_using_subcommand watch" -l tags -d 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l skip-tags -d 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -s u -l user -d 'Remote user for hosts whose inventory sets none (Ansible\'s -u: inventory `user` wins)' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l batch-size -d 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l strategy -d 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]' -r -f -a "batched\t'A batch connects, runs and disconnects before the next batch starts'
rolling\t'A window of `concurrency` hosts; the next host starts as one ends'"
complete -c drover -n "__fish_drover_using_subcommand watch" -s f -l concurrency -l forks -d 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l connect-timeout -d 'Per connection attempt [default: 10s]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l command-timeout -d 'Per command, output included; then what it started is killed (a task\'s `timeout` overrides it) [default: 8s]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l host-timeout -d 'Whole-host deadline; a command it cuts short is killed [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l batch-pause -d 'Wait between batches [default: 0s]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l rate -d 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l burst -d 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l gateway-rate -d 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l retries -d 'Connection attempts after the first, for transient failures only [default: 2]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l backoff -d 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l backoff-cap -d 'Longest wait between connection attempts [default: 60s]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l breaker-threshold -d 'Consecutive transport failures that open a host\'s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l breaker-cooldown -d 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l max-fail-percentage -d 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l min-hosts-done -d 'Finished hosts needed before max_fail_percentage is judged [default: 1]' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l any-errors-fatal -d 'Stop starting hosts at the first failed host (exit 3) [default: false]' -r -f -a "true\t''
false\t''"
complete -c drover -n "__fish_drover_using_subcommand watch" -l state-dir -d 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]' -r -F
complete -c drover -n "__fish_drover_using_subcommand watch" -l duration -d 'Stop after this long (e.g. 10m, 1h), as if interrupted; without it, watch until SIGINT or SIGTERM' -r
complete -c drover -n "__fish_drover_using_subcommand watch" -l events -d 'Stream every check, level change and subscription change as one JSON line to FILE, or to stdout with `-`' -r -F
complete -c drover -n "__fish_drover_using_subcommand watch" -l report -d 'Write the report of the watch period here as JSON (atomically) when the watch ends' -r -F
complete -c drover -n "__fish_drover_using_subcommand watch" -l metrics -d 'Keep a Prometheus textfile here (node_exporter\'s textfile collector): per host up, level and check time; rewritten atomically' -r -F
complete -c drover -n "__fish_drover_using_subcommand watch" -s k -l ask-pass -d 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
complete -c drover -n "__fish_drover_using_subcommand watch" -l reset-breakers -d 'Forget every breaker of this inventory before the run'
complete -c drover -n "__fish_drover_using_subcommand watch" -l fresh -d 'Start every host afresh at the start level, ignoring the watch state saved by an earlier watch'
complete -c drover -n "__fish_drover_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c drover -n "__fish_drover_using_subcommand watch" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand inventory" -s i -l inventory -d 'Inventory file (repeatable; later ones win)' -r -F
complete -c drover -n "__fish_drover_using_subcommand inventory" -l host -d 'Print one host\'s resolved variables and where each came from' -r
complete -c drover -n "__fish_drover_using_subcommand inventory" -l list-hosts -d 'Print the hosts PATTERN selects, one per line, in the order a run takes them (what `ansible PATTERN --list-hosts` prints)' -r
complete -c drover -n "__fish_drover_using_subcommand inventory" -l playbook-dir -d 'Also read `group_vars/` and `host_vars/` in DIR, as for a playbook there (Ansible\'s `--playbook-dir`)' -r -F
complete -c drover -n "__fish_drover_using_subcommand inventory" -l list -d 'Print the whole inventory as Ansible-style JSON (the default); secret-named values are masked'
complete -c drover -n "__fish_drover_using_subcommand inventory" -l graph -d 'Draw the group tree'
complete -c drover -n "__fish_drover_using_subcommand inventory" -l names -d 'Print every group and host name, one per line (what shell completion offers for `--limit` and `--host`)'
complete -c drover -n "__fish_drover_using_subcommand inventory" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand inventory" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand history" -l state-dir -d 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]' -r -F
complete -c drover -n "__fish_drover_using_subcommand history" -l playbook -d 'Only runs of this playbook (its path as given, or its file name)' -r
complete -c drover -n "__fish_drover_using_subcommand history" -l since -d 'Only runs started at or after this: an RFC 3339 time or an age such as 2h, 7d' -r
complete -c drover -n "__fish_drover_using_subcommand history" -l until -d 'Only runs started before this: an RFC 3339 time or an age such as 2h, 7d' -r
complete -c drover -n "__fish_drover_using_subcommand history" -l json -d 'One JSON array of runs on stdout, for scripts'
complete -c drover -n "__fish_drover_using_subcommand history" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand history" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand report; and not __fish_seen_subcommand_from show diff merge html help" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand report; and not __fish_seen_subcommand_from show diff merge html help" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand report; and not __fish_seen_subcommand_from show diff merge html help" -f -a "show" -d 'Print a past run\'s summary as the run printed it'
complete -c drover -n "__fish_drover_using_subcommand report; and not __fish_seen_subcommand_from show diff merge html help" -f -a "diff" -d 'Show the drift between two runs per host and task; exit 2 when something drifted'
complete -c drover -n "__fish_drover_using_subcommand report; and not __fish_seen_subcommand_from show diff merge html help" -f -a "merge" -d 'Join the reports of `--shard K/N` runs into the report one run would have written'
complete -c drover -n "__fish_drover_using_subcommand report; and not __fish_seen_subcommand_from show diff merge html help" -f -a "html" -d 'Write a run\'s report as one self-contained HTML page (no network, works from file://)'
complete -c drover -n "__fish_drover_using_subcommand report; and not __fish_seen_subcommand_from show diff merge html help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from show" -l state-dir -d 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]' -r -F
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from show" -l json -d 'Print the whole JSON report instead of the summary'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from diff" -l max-lines -d 'Lines of output diff shown per change before it is cut' -r
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from diff" -l html -d 'Also write B\'s HTML page with this drift in it (see `drover report html`)' -r -F
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from diff" -l state-dir -d 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]' -r -F
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from diff" -l json -d 'The drift as JSON on stdout, for scripts'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from merge" -l report -d 'Write the merged JSON report here' -r -F
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from merge" -l junit -d 'Write the merged JUnit XML here' -r -F
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from merge" -l state-dir -d 'The state directory, for run ids [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]' -r -F
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from merge" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from merge" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from html" -s o -l output -d 'Write the page here (atomically) [default: stdout]' -r -F
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from html" -l diff-against -d 'Add a drift view: what changed since REF (a run id, `last~N`, or a report file)' -r
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from html" -l state-dir -d 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]' -r -F
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from html" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from html" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print a past run\'s summary as the run printed it'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show the drift between two runs per host and task; exit 2 when something drifted'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "merge" -d 'Join the reports of `--shard K/N` runs into the report one run would have written'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "html" -d 'Write a run\'s report as one self-contained HTML page (no network, works from file://)'
complete -c drover -n "__fish_drover_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drover -n "__fish_drover_using_subcommand config" -s h -l help -d 'Print help'
complete -c drover -n "__fish_drover_using_subcommand config" -s V -l version -d 'Print version'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "run" -d 'Run a playbook against the inventory'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "exec" -d 'Run one command on the hosts a pattern selects, no playbook needed'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "check" -d 'Validate a playbook and print every host\'s rendered commands; connects to nothing'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "watch" -d 'Watch the fleet: the play\'s tasks as health checks, each host on its level\'s interval'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "inventory" -d 'Show the inventory: hosts, groups and resolved variables'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "history" -d 'List the recorded runs: id, start, playbook, hosts per status, duration, exit code'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "report" -d 'Past runs\' reports: show one, diff two (drift), merge shards, write an HTML page'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "config" -d 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from'
complete -c drover -n "__fish_drover_using_subcommand help; and not __fish_seen_subcommand_from run exec check watch inventory history report config help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c drover -n "__fish_drover_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "show" -d 'Print a past run\'s summary as the run printed it'
complete -c drover -n "__fish_drover_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "diff" -d 'Show the drift between two runs per host and task; exit 2 when something drifted'
complete -c drover -n "__fish_drover_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "merge" -d 'Join the reports of `--shard K/N` runs into the report one run would have written'
complete -c drover -n "__fish_drover_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "html" -d 'Write a run\'s report as one self-contained HTML page (no network, works from file://)'

# Host and group names for -l/--limit and --host, from the inventory the line gives with -i.
function __fish_drover_names
    set -l words (commandline -opc)
    set -l inv
    for i in (seq 2 (count $words))
        switch $words[$i]
            case -i --inventory
                set -a inv -i $words[(math $i + 1)]
        end
    end
    $words[1] inventory $inv --names 2>/dev/null
end
complete -c drover -n "__fish_seen_subcommand_from run exec check" -s l -l limit -f -a "(__fish_drover_names)"
complete -c drover -n "__fish_seen_subcommand_from inventory" -l host -f -a "(__fish_drover_names)"
