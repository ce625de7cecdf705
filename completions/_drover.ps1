
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'drover' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'drover'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'drover' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a playbook against the inventory')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run one command on the hosts a pattern selects, no playbook needed')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a playbook and print every host''s rendered commands; connects to nothing')
            [CompletionResult]::new('inventory', 'inventory', [CompletionResultType]::ParameterValue, 'Show the inventory: hosts, groups and resolved variables')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'drover;run' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--extra-vars', '--extra-vars', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--start-at-task', '--start-at-task', [CompletionResultType]::ParameterName, 'Not supported: drover runs every task of a play')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Hosts per batch; 0 = one batch of all hosts [play default: 10]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Most hosts in flight at once [play default: 10]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Most hosts in flight at once [play default: 10]')
            [CompletionResult]::new('--forks', '--forks', [CompletionResultType]::ParameterName, 'Most hosts in flight at once [play default: 10]')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'batched: a batch finishes before the next starts; rolling: a window of hosts')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Per connection attempt, e.g. 10s [default: 10s]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Per command, e.g. 8s, 2m [default: 8s]')
            [CompletionResult]::new('--host-timeout', '--host-timeout', [CompletionResultType]::ParameterName, 'Whole-host deadline, e.g. 5m [default: none]')
            [CompletionResult]::new('--batch-pause', '--batch-pause', [CompletionResultType]::ParameterName, 'Wait between batches, e.g. 30s [default: 0s]')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'New connections per time, fleet-wide: 20/s, 300/m, 120/h [default: 20/s]')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Connections that may start at once after an idle spell [default: 1]')
            [CompletionResult]::new('--gateway-rate', '--gateway-rate', [CompletionResultType]::ParameterName, 'New connections per time through one gateway (jump host, broker, `gateway` var)')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Connection attempts after the first, for transient failures [default: 2]')
            [CompletionResult]::new('--backoff', '--backoff', [CompletionResultType]::ParameterName, 'Backoff base between connection attempts (full jitter) [default: 2s]')
            [CompletionResult]::new('--backoff-cap', '--backoff-cap', [CompletionResultType]::ParameterName, 'Longest wait between connection attempts [default: 60s]')
            [CompletionResult]::new('--breaker-threshold', '--breaker-threshold', [CompletionResultType]::ParameterName, 'Consecutive connection failures that open a host''s breaker; 0 = off [default: 3]')
            [CompletionResult]::new('--breaker-cooldown', '--breaker-cooldown', [CompletionResultType]::ParameterName, 'How long an open breaker skips its host [default: 180s]')
            [CompletionResult]::new('--max-fail-percentage', '--max-fail-percentage', [CompletionResultType]::ParameterName, 'Stop starting hosts once more than this percentage of finished hosts failed (exit 3)')
            [CompletionResult]::new('--min-hosts-done', '--min-hosts-done', [CompletionResultType]::ParameterName, 'Finished hosts needed before --max-fail-percentage is judged [default: 1]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory of the breaker state files [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the JSON report here (atomically, also when interrupted)')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write JUnit XML here, one test case per host × task (atomically)')
            [CompletionResult]::new('--events', '--events', [CompletionResultType]::ParameterName, 'Stream every event as one JSON line to FILE, or to stdout with `-`')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Not supported yet: ssh logs in with keys, certificates or the agent')
            [CompletionResult]::new('--ask-pass', '--ask-pass', [CompletionResultType]::ParameterName, 'Not supported yet: ssh logs in with keys, certificates or the agent')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Render and plan every command, connect to nothing (what `drover check` does)')
            [CompletionResult]::new('--syntax-check', '--syntax-check', [CompletionResultType]::ParameterName, 'Validate the playbook and render every command, connect to nothing (as `drover check`)')
            [CompletionResult]::new('--list-hosts', '--list-hosts', [CompletionResultType]::ParameterName, 'Print the hosts each play would run on, connect to nothing')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Not supported: drover does not ask before each task')
            [CompletionResult]::new('--any-errors-fatal', '--any-errors-fatal', [CompletionResultType]::ParameterName, 'Stop starting hosts at the first failed host (exit 3)')
            [CompletionResult]::new('--reset-breakers', '--reset-breakers', [CompletionResultType]::ParameterName, 'Forget every breaker of this inventory before the run')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print every task (-v), the connector''s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print every task (-v), the connector''s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the summary (on a terminal: only the overall bar while running)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the summary (on a terminal: only the overall bar while running)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;exec' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--extra-vars', '--extra-vars', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, '`json`: print the report on stdout, for scripts (the summary goes to stderr)')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Hosts per batch; 0 = one batch of all hosts [play default: 10]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Most hosts in flight at once [play default: 10]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Most hosts in flight at once [play default: 10]')
            [CompletionResult]::new('--forks', '--forks', [CompletionResultType]::ParameterName, 'Most hosts in flight at once [play default: 10]')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'batched: a batch finishes before the next starts; rolling: a window of hosts')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Per connection attempt, e.g. 10s [default: 10s]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Per command, e.g. 8s, 2m [default: 8s]')
            [CompletionResult]::new('--host-timeout', '--host-timeout', [CompletionResultType]::ParameterName, 'Whole-host deadline, e.g. 5m [default: none]')
            [CompletionResult]::new('--batch-pause', '--batch-pause', [CompletionResultType]::ParameterName, 'Wait between batches, e.g. 30s [default: 0s]')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'New connections per time, fleet-wide: 20/s, 300/m, 120/h [default: 20/s]')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Connections that may start at once after an idle spell [default: 1]')
            [CompletionResult]::new('--gateway-rate', '--gateway-rate', [CompletionResultType]::ParameterName, 'New connections per time through one gateway (jump host, broker, `gateway` var)')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Connection attempts after the first, for transient failures [default: 2]')
            [CompletionResult]::new('--backoff', '--backoff', [CompletionResultType]::ParameterName, 'Backoff base between connection attempts (full jitter) [default: 2s]')
            [CompletionResult]::new('--backoff-cap', '--backoff-cap', [CompletionResultType]::ParameterName, 'Longest wait between connection attempts [default: 60s]')
            [CompletionResult]::new('--breaker-threshold', '--breaker-threshold', [CompletionResultType]::ParameterName, 'Consecutive connection failures that open a host''s breaker; 0 = off [default: 3]')
            [CompletionResult]::new('--breaker-cooldown', '--breaker-cooldown', [CompletionResultType]::ParameterName, 'How long an open breaker skips its host [default: 180s]')
            [CompletionResult]::new('--max-fail-percentage', '--max-fail-percentage', [CompletionResultType]::ParameterName, 'Stop starting hosts once more than this percentage of finished hosts failed (exit 3)')
            [CompletionResult]::new('--min-hosts-done', '--min-hosts-done', [CompletionResultType]::ParameterName, 'Finished hosts needed before --max-fail-percentage is judged [default: 1]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory of the breaker state files [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the JSON report here (atomically, also when interrupted)')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write JUnit XML here, one test case per host × task (atomically)')
            [CompletionResult]::new('--events', '--events', [CompletionResultType]::ParameterName, 'Stream every event as one JSON line to FILE, or to stdout with `-`')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Not supported yet: ssh logs in with keys, certificates or the agent')
            [CompletionResult]::new('--ask-pass', '--ask-pass', [CompletionResultType]::ParameterName, 'Not supported yet: ssh logs in with keys, certificates or the agent')
            [CompletionResult]::new('--any-errors-fatal', '--any-errors-fatal', [CompletionResultType]::ParameterName, 'Stop starting hosts at the first failed host (exit 3)')
            [CompletionResult]::new('--reset-breakers', '--reset-breakers', [CompletionResultType]::ParameterName, 'Forget every breaker of this inventory before the run')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print every task (-v), the connector''s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print every task (-v), the connector''s decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only the summary (on a terminal: only the overall bar while running)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only the summary (on a terminal: only the overall bar while running)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;check' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--extra-vars', '--extra-vars', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Not supported yet: ssh logs in with keys, certificates or the agent')
            [CompletionResult]::new('--ask-pass', '--ask-pass', [CompletionResultType]::ParameterName, 'Not supported yet: ssh logs in with keys, certificates or the agent')
            [CompletionResult]::new('--list-hosts', '--list-hosts', [CompletionResultType]::ParameterName, 'Print only the hosts each play would run on')
            [CompletionResult]::new('--syntax-check', '--syntax-check', [CompletionResultType]::ParameterName, 'Accepted for Ansible habit: `check` validates and renders anyway')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;inventory' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Inventory file (repeatable; later ones win)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Inventory file (repeatable; later ones win)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Print one host''s resolved variables and where each came from')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'Print the whole inventory as Ansible-style JSON (the default)')
            [CompletionResult]::new('--graph', '--graph', [CompletionResultType]::ParameterName, 'Draw the group tree')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;config' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a playbook against the inventory')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run one command on the hosts a pattern selects, no playbook needed')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a playbook and print every host''s rendered commands; connects to nothing')
            [CompletionResult]::new('inventory', 'inventory', [CompletionResultType]::ParameterValue, 'Show the inventory: hosts, groups and resolved variables')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'drover;help;run' {
            break
        }
        'drover;help;exec' {
            break
        }
        'drover;help;check' {
            break
        }
        'drover;help;inventory' {
            break
        }
        'drover;help;config' {
            break
        }
        'drover;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
