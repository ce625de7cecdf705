
use builtin;
use str;

set edit:completion:arg-completer[drover] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'drover'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'drover'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run a playbook against the inventory'
            cand exec 'Run one command on the hosts a pattern selects, no playbook needed'
            cand check 'Validate a playbook and print every host''s rendered commands; connects to nothing'
            cand watch 'Watch the fleet: the play''s tasks as health checks, each host on its level''s interval'
            cand inventory 'Show the inventory: hosts, groups and resolved variables'
            cand history 'List the recorded runs: id, start, playbook, hosts per status, duration, exit code'
            cand report 'Past runs'' reports: show one, diff two (drift), merge shards, write an HTML page'
            cand config 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'drover;run'= {
            cand -i 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand --inventory 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand -l 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line'
            cand --limit 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line'
            cand -e 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --extra-vars 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --platforms 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key'
            cand --tags 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too'
            cand --skip-tags 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag'
            cand -u 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --user 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --start-at-task 'Not supported: drover runs every task of a play'
            cand --batch-size 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]'
            cand --strategy 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]'
            cand -f 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --concurrency 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --forks 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --connect-timeout 'Per connection attempt [default: 10s]'
            cand --command-timeout 'Per command, output included; then what it started is killed (a task''s `timeout` overrides it) [default: 8s]'
            cand --host-timeout 'Whole-host deadline; a command it cuts short is killed [default: none]'
            cand --batch-pause 'Wait between batches [default: 0s]'
            cand --rate 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]'
            cand --burst 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]'
            cand --gateway-rate 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]'
            cand --retries 'Connection attempts after the first, for transient failures only [default: 2]'
            cand --backoff 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]'
            cand --backoff-cap 'Longest wait between connection attempts [default: 60s]'
            cand --breaker-threshold 'Consecutive transport failures that open a host''s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]'
            cand --breaker-cooldown 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]'
            cand --max-fail-percentage 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]'
            cand --min-hosts-done 'Finished hosts needed before max_fail_percentage is judged [default: 1]'
            cand --any-errors-fatal 'Stop starting hosts at the first failed host (exit 3) [default: false]'
            cand --state-dir 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand --keep-runs 'Runs kept in the history; older ones are pruned after each run'
            cand --keep-for 'Also prune runs older than this, e.g. 30d, 12h [default: no age limit]'
            cand --diff-against 'After the run, print its drift against REF (a run id, `last`, `last~N`, or a report file)'
            cand --retry-failed 'Run only the hosts that failed, were unreachable or were cancelled in REF (a report file, a run id, `last`)'
            cand --shard 'Run one part K of N of the selected hosts, split by a stable hash of the host name'
            cand --report 'Write the JSON report here, atomically, also when interrupted (`-`: stdout)'
            cand --junit 'Write JUnit XML here, one test case per host × task (`-`: stdout)'
            cand --html 'Write a self-contained HTML page of the run here (atomically): timeline, host table, outputs, errors, drift with --diff-against'
            cand --events 'Stream every event as one JSON line to FILE, or to stdout with `-`'
            cand --color 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set'
            cand -k 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
            cand --ask-pass 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
            cand --check 'Render and plan every command, connect to nothing (what `drover check` does)'
            cand --syntax-check 'Validate the playbook and render every command, connect to nothing (as `drover check`)'
            cand --list-hosts 'Print the hosts each play would run on, connect to nothing'
            cand --step 'Not supported: drover does not ask before each task'
            cand --reset-breakers 'Forget every breaker of this inventory before the run'
            cand --no-history 'Do not record this run in the history'
            cand -v 'Print every task (-v), the connector''s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr'
            cand --verbose 'Print every task (-v), the connector''s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr'
            cand -q 'Print only the summary (on a terminal: only the overall bar while running)'
            cand --quiet 'Print only the summary (on a terminal: only the overall bar while running)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;exec'= {
            cand -i 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand --inventory 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand -l 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line'
            cand --limit 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line'
            cand -e 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --extra-vars 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --platforms 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key'
            cand --tags 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too'
            cand --skip-tags 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag'
            cand -u 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --user 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --output '`json`: print the report on stdout, for scripts (the summary goes to stderr)'
            cand --batch-size 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]'
            cand --strategy 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]'
            cand -f 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --concurrency 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --forks 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --connect-timeout 'Per connection attempt [default: 10s]'
            cand --command-timeout 'Per command, output included; then what it started is killed (a task''s `timeout` overrides it) [default: 8s]'
            cand --host-timeout 'Whole-host deadline; a command it cuts short is killed [default: none]'
            cand --batch-pause 'Wait between batches [default: 0s]'
            cand --rate 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]'
            cand --burst 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]'
            cand --gateway-rate 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]'
            cand --retries 'Connection attempts after the first, for transient failures only [default: 2]'
            cand --backoff 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]'
            cand --backoff-cap 'Longest wait between connection attempts [default: 60s]'
            cand --breaker-threshold 'Consecutive transport failures that open a host''s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]'
            cand --breaker-cooldown 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]'
            cand --max-fail-percentage 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]'
            cand --min-hosts-done 'Finished hosts needed before max_fail_percentage is judged [default: 1]'
            cand --any-errors-fatal 'Stop starting hosts at the first failed host (exit 3) [default: false]'
            cand --state-dir 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand --keep-runs 'Runs kept in the history; older ones are pruned after each run'
            cand --keep-for 'Also prune runs older than this, e.g. 30d, 12h [default: no age limit]'
            cand --diff-against 'After the run, print its drift against REF (a run id, `last`, `last~N`, or a report file)'
            cand --retry-failed 'Run only the hosts that failed, were unreachable or were cancelled in REF (a report file, a run id, `last`)'
            cand --shard 'Run one part K of N of the selected hosts, split by a stable hash of the host name'
            cand --report 'Write the JSON report here, atomically, also when interrupted (`-`: stdout)'
            cand --junit 'Write JUnit XML here, one test case per host × task (`-`: stdout)'
            cand --html 'Write a self-contained HTML page of the run here (atomically): timeline, host table, outputs, errors, drift with --diff-against'
            cand --events 'Stream every event as one JSON line to FILE, or to stdout with `-`'
            cand --color 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set'
            cand -k 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
            cand --ask-pass 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
            cand --reset-breakers 'Forget every breaker of this inventory before the run'
            cand --no-history 'Do not record this run in the history'
            cand -v 'Print every task (-v), the connector''s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr'
            cand --verbose 'Print every task (-v), the connector''s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr'
            cand -q 'Print only the summary (on a terminal: only the overall bar while running)'
            cand --quiet 'Print only the summary (on a terminal: only the overall bar while running)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;check'= {
            cand -i 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand --inventory 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand -l 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line'
            cand --limit 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line'
            cand -e 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --extra-vars 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --platforms 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key'
            cand --tags 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too'
            cand --skip-tags 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag'
            cand -u 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --user 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand -k 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
            cand --ask-pass 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
            cand --list-hosts 'Print only the hosts each play would run on'
            cand --syntax-check 'Accepted for Ansible habit: `check` validates and renders anyway'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;watch'= {
            cand -i 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand --inventory 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand -l 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line'
            cand --limit 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line'
            cand -e 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --extra-vars 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --platforms 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key'
            cand --tags 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too'
            cand --skip-tags 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag'
            cand -u 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --user 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --batch-size 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]'
            cand --strategy 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]'
            cand -f 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --concurrency 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --forks 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]'
            cand --connect-timeout 'Per connection attempt [default: 10s]'
            cand --command-timeout 'Per command, output included; then what it started is killed (a task''s `timeout` overrides it) [default: 8s]'
            cand --host-timeout 'Whole-host deadline; a command it cuts short is killed [default: none]'
            cand --batch-pause 'Wait between batches [default: 0s]'
            cand --rate 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]'
            cand --burst 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]'
            cand --gateway-rate 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]'
            cand --retries 'Connection attempts after the first, for transient failures only [default: 2]'
            cand --backoff 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]'
            cand --backoff-cap 'Longest wait between connection attempts [default: 60s]'
            cand --breaker-threshold 'Consecutive transport failures that open a host''s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]'
            cand --breaker-cooldown 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]'
            cand --max-fail-percentage 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]'
            cand --min-hosts-done 'Finished hosts needed before max_fail_percentage is judged [default: 1]'
            cand --any-errors-fatal 'Stop starting hosts at the first failed host (exit 3) [default: false]'
            cand --state-dir 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand --duration 'Stop after this long (e.g. 10m, 1h), as if interrupted; without it, watch until SIGINT or SIGTERM'
            cand --events 'Stream every check, level change and subscription change as one JSON line to FILE, or to stdout with `-`'
            cand --report 'Write the report of the watch period here as JSON (atomically) when the watch ends'
            cand --metrics 'Keep a Prometheus textfile here (node_exporter''s textfile collector): per host up, level and check time; rewritten atomically'
            cand -k 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
            cand --ask-pass 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend'
            cand --reset-breakers 'Forget every breaker of this inventory before the run'
            cand --fresh 'Start every host afresh at the start level, ignoring the watch state saved by an earlier watch'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;inventory'= {
            cand -i 'Inventory file (repeatable; later ones win)'
            cand --inventory 'Inventory file (repeatable; later ones win)'
            cand --host 'Print one host''s resolved variables and where each came from'
            cand --list-hosts 'Print the hosts PATTERN selects, one per line, in the order a run takes them (what `ansible PATTERN --list-hosts` prints)'
            cand --playbook-dir 'Also read `group_vars/` and `host_vars/` in DIR, as for a playbook there (Ansible''s `--playbook-dir`)'
            cand --list 'Print the whole inventory as Ansible-style JSON (the default); secret-named values are masked'
            cand --graph 'Draw the group tree'
            cand --names 'Print every group and host name, one per line (what shell completion offers for `--limit` and `--host`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;history'= {
            cand --state-dir 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand --playbook 'Only runs of this playbook (its path as given, or its file name)'
            cand --since 'Only runs started at or after this: an RFC 3339 time or an age such as 2h, 7d'
            cand --until 'Only runs started before this: an RFC 3339 time or an age such as 2h, 7d'
            cand --json 'One JSON array of runs on stdout, for scripts'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;report'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Print a past run''s summary as the run printed it'
            cand diff 'Show the drift between two runs per host and task; exit 2 when something drifted'
            cand merge 'Join the reports of `--shard K/N` runs into the report one run would have written'
            cand html 'Write a run''s report as one self-contained HTML page (no network, works from file://)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'drover;report;show'= {
            cand --state-dir 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand --json 'Print the whole JSON report instead of the summary'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;report;diff'= {
            cand --max-lines 'Lines of output diff shown per change before it is cut'
            cand --html 'Also write B''s HTML page with this drift in it (see `drover report html`)'
            cand --state-dir 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand --json 'The drift as JSON on stdout, for scripts'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;report;merge'= {
            cand --report 'Write the merged JSON report here'
            cand --junit 'Write the merged JUnit XML here'
            cand --state-dir 'The state directory, for run ids [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;report;html'= {
            cand -o 'Write the page here (atomically) [default: stdout]'
            cand --output 'Write the page here (atomically) [default: stdout]'
            cand --diff-against 'Add a drift view: what changed since REF (a run id, `last~N`, or a report file)'
            cand --state-dir 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;report;help'= {
            cand show 'Print a past run''s summary as the run printed it'
            cand diff 'Show the drift between two runs per host and task; exit 2 when something drifted'
            cand merge 'Join the reports of `--shard K/N` runs into the report one run would have written'
            cand html 'Write a run''s report as one self-contained HTML page (no network, works from file://)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'drover;report;help;show'= {
        }
        &'drover;report;help;diff'= {
        }
        &'drover;report;help;merge'= {
        }
        &'drover;report;help;html'= {
        }
        &'drover;report;help;help'= {
        }
        &'drover;config'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;help'= {
            cand run 'Run a playbook against the inventory'
            cand exec 'Run one command on the hosts a pattern selects, no playbook needed'
            cand check 'Validate a playbook and print every host''s rendered commands; connects to nothing'
            cand watch 'Watch the fleet: the play''s tasks as health checks, each host on its level''s interval'
            cand inventory 'Show the inventory: hosts, groups and resolved variables'
            cand history 'List the recorded runs: id, start, playbook, hosts per status, duration, exit code'
            cand report 'Past runs'' reports: show one, diff two (drift), merge shards, write an HTML page'
            cand config 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'drover;help;run'= {
        }
        &'drover;help;exec'= {
        }
        &'drover;help;check'= {
        }
        &'drover;help;watch'= {
        }
        &'drover;help;inventory'= {
        }
        &'drover;help;history'= {
        }
        &'drover;help;report'= {
            cand show 'Print a past run''s summary as the run printed it'
            cand diff 'Show the drift between two runs per host and task; exit 2 when something drifted'
            cand merge 'Join the reports of `--shard K/N` runs into the report one run would have written'
            cand html 'Write a run''s report as one self-contained HTML page (no network, works from file://)'
        }
        &'drover;help;report;show'= {
        }
        &'drover;help;report;diff'= {
        }
        &'drover;help;report;merge'= {
        }
        &'drover;help;report;html'= {
        }
        &'drover;help;config'= {
        }
        &'drover;help;help'= {
        }
    ]
    $completions[$command]
}
