
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
            cand inventory 'Show the inventory: hosts, groups and resolved variables'
            cand config 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'drover;run'= {
            cand -i 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand --inventory 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)'
            cand -l 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)'
            cand --limit 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)'
            cand -e 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --extra-vars 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand -u 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --user 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --start-at-task 'Not supported: drover runs every task of a play'
            cand --batch-size 'Hosts per batch; 0 = one batch of all hosts [play default: 10]'
            cand -f 'Most hosts in flight at once [play default: 10]'
            cand --concurrency 'Most hosts in flight at once [play default: 10]'
            cand --forks 'Most hosts in flight at once [play default: 10]'
            cand --strategy 'batched: a batch finishes before the next starts; rolling: a window of hosts'
            cand --connect-timeout 'Per connection attempt, e.g. 10s [default: 10s]'
            cand --command-timeout 'Per command, e.g. 8s, 2m [default: 8s]'
            cand --host-timeout 'Whole-host deadline, e.g. 5m [default: none]'
            cand --batch-pause 'Wait between batches, e.g. 30s [default: 0s]'
            cand --rate 'New connections per time, fleet-wide: 20/s, 300/m, 120/h [default: 20/s]'
            cand --burst 'Connections that may start at once after an idle spell [default: 1]'
            cand --gateway-rate 'New connections per time through one gateway (jump host, broker, `gateway` var)'
            cand --retries 'Connection attempts after the first, for transient failures [default: 2]'
            cand --backoff 'Backoff base between connection attempts (full jitter) [default: 2s]'
            cand --backoff-cap 'Longest wait between connection attempts [default: 60s]'
            cand --breaker-threshold 'Consecutive connection failures that open a host''s breaker; 0 = off [default: 3]'
            cand --breaker-cooldown 'How long an open breaker skips its host [default: 180s]'
            cand --max-fail-percentage 'Stop starting hosts once more than this percentage of finished hosts failed (exit 3)'
            cand --min-hosts-done 'Finished hosts needed before --max-fail-percentage is judged [default: 1]'
            cand --state-dir 'Directory of the breaker state files [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand --report 'Write the JSON report here (atomically, also when interrupted)'
            cand --junit 'Write JUnit XML here, one test case per host × task (atomically)'
            cand --events 'Stream every event as one JSON line to FILE, or to stdout with `-`'
            cand --color 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set'
            cand -k 'Not supported yet: ssh logs in with keys, certificates or the agent'
            cand --ask-pass 'Not supported yet: ssh logs in with keys, certificates or the agent'
            cand --check 'Render and plan every command, connect to nothing (what `drover check` does)'
            cand --syntax-check 'Validate the playbook and render every command, connect to nothing (as `drover check`)'
            cand --list-hosts 'Print the hosts each play would run on, connect to nothing'
            cand --step 'Not supported: drover does not ask before each task'
            cand --any-errors-fatal 'Stop starting hosts at the first failed host (exit 3)'
            cand --reset-breakers 'Forget every breaker of this inventory before the run'
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
            cand -l 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)'
            cand --limit 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)'
            cand -e 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --extra-vars 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand -u 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --user 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --output '`json`: print the report on stdout, for scripts (the summary goes to stderr)'
            cand --batch-size 'Hosts per batch; 0 = one batch of all hosts [play default: 10]'
            cand -f 'Most hosts in flight at once [play default: 10]'
            cand --concurrency 'Most hosts in flight at once [play default: 10]'
            cand --forks 'Most hosts in flight at once [play default: 10]'
            cand --strategy 'batched: a batch finishes before the next starts; rolling: a window of hosts'
            cand --connect-timeout 'Per connection attempt, e.g. 10s [default: 10s]'
            cand --command-timeout 'Per command, e.g. 8s, 2m [default: 8s]'
            cand --host-timeout 'Whole-host deadline, e.g. 5m [default: none]'
            cand --batch-pause 'Wait between batches, e.g. 30s [default: 0s]'
            cand --rate 'New connections per time, fleet-wide: 20/s, 300/m, 120/h [default: 20/s]'
            cand --burst 'Connections that may start at once after an idle spell [default: 1]'
            cand --gateway-rate 'New connections per time through one gateway (jump host, broker, `gateway` var)'
            cand --retries 'Connection attempts after the first, for transient failures [default: 2]'
            cand --backoff 'Backoff base between connection attempts (full jitter) [default: 2s]'
            cand --backoff-cap 'Longest wait between connection attempts [default: 60s]'
            cand --breaker-threshold 'Consecutive connection failures that open a host''s breaker; 0 = off [default: 3]'
            cand --breaker-cooldown 'How long an open breaker skips its host [default: 180s]'
            cand --max-fail-percentage 'Stop starting hosts once more than this percentage of finished hosts failed (exit 3)'
            cand --min-hosts-done 'Finished hosts needed before --max-fail-percentage is judged [default: 1]'
            cand --state-dir 'Directory of the breaker state files [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]'
            cand --report 'Write the JSON report here (atomically, also when interrupted)'
            cand --junit 'Write JUnit XML here, one test case per host × task (atomically)'
            cand --events 'Stream every event as one JSON line to FILE, or to stdout with `-`'
            cand --color 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set'
            cand -k 'Not supported yet: ssh logs in with keys, certificates or the agent'
            cand --ask-pass 'Not supported yet: ssh logs in with keys, certificates or the agent'
            cand --any-errors-fatal 'Stop starting hosts at the first failed host (exit 3)'
            cand --reset-breakers 'Forget every breaker of this inventory before the run'
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
            cand -l 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)'
            cand --limit 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)'
            cand -e 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand --extra-vars 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)'
            cand -u 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand --user 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)'
            cand -k 'Not supported yet: ssh logs in with keys, certificates or the agent'
            cand --ask-pass 'Not supported yet: ssh logs in with keys, certificates or the agent'
            cand --list-hosts 'Print only the hosts each play would run on'
            cand --syntax-check 'Accepted for Ansible habit: `check` validates and renders anyway'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'drover;inventory'= {
            cand -i 'Inventory file (repeatable; later ones win)'
            cand --inventory 'Inventory file (repeatable; later ones win)'
            cand --host 'Print one host''s resolved variables and where each came from'
            cand --list 'Print the whole inventory as Ansible-style JSON (the default)'
            cand --graph 'Draw the group tree'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
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
            cand inventory 'Show the inventory: hosts, groups and resolved variables'
            cand config 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'drover;help;run'= {
        }
        &'drover;help;exec'= {
        }
        &'drover;help;check'= {
        }
        &'drover;help;inventory'= {
        }
        &'drover;help;config'= {
        }
        &'drover;help;help'= {
        }
    ]
    $completions[$command]
}
