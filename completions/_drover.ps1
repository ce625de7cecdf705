
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
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Watch the fleet: the play''s tasks as health checks, each host on its level''s interval')
            [CompletionResult]::new('inventory', 'inventory', [CompletionResultType]::ParameterValue, 'Show the inventory: hosts, groups and resolved variables')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the recorded runs: id, start, playbook, hosts per status, duration, exit code')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Past runs'' reports: show one, diff two (drift), merge shards, write an HTML page')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the defaults drover takes from DROVER_* variables and drover.yml, and where from')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'drover;run' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--extra-vars', '--extra-vars', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--platforms', '--platforms', [CompletionResultType]::ParameterName, 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key')
            [CompletionResult]::new('--tags', '--tags', [CompletionResultType]::ParameterName, 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too')
            [CompletionResult]::new('--skip-tags', '--skip-tags', [CompletionResultType]::ParameterName, 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--start-at-task', '--start-at-task', [CompletionResultType]::ParameterName, 'Not supported: drover runs every task of a play')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--forks', '--forks', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Per connection attempt [default: 10s]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Per command, output included; then what it started is killed (a task''s `timeout` overrides it) [default: 8s]')
            [CompletionResult]::new('--host-timeout', '--host-timeout', [CompletionResultType]::ParameterName, 'Whole-host deadline; a command it cuts short is killed [default: none]')
            [CompletionResult]::new('--batch-pause', '--batch-pause', [CompletionResultType]::ParameterName, 'Wait between batches [default: 0s]')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]')
            [CompletionResult]::new('--gateway-rate', '--gateway-rate', [CompletionResultType]::ParameterName, 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Connection attempts after the first, for transient failures only [default: 2]')
            [CompletionResult]::new('--backoff', '--backoff', [CompletionResultType]::ParameterName, 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]')
            [CompletionResult]::new('--backoff-cap', '--backoff-cap', [CompletionResultType]::ParameterName, 'Longest wait between connection attempts [default: 60s]')
            [CompletionResult]::new('--breaker-threshold', '--breaker-threshold', [CompletionResultType]::ParameterName, 'Consecutive transport failures that open a host''s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]')
            [CompletionResult]::new('--breaker-cooldown', '--breaker-cooldown', [CompletionResultType]::ParameterName, 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]')
            [CompletionResult]::new('--max-fail-percentage', '--max-fail-percentage', [CompletionResultType]::ParameterName, 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]')
            [CompletionResult]::new('--min-hosts-done', '--min-hosts-done', [CompletionResultType]::ParameterName, 'Finished hosts needed before max_fail_percentage is judged [default: 1]')
            [CompletionResult]::new('--any-errors-fatal', '--any-errors-fatal', [CompletionResultType]::ParameterName, 'Stop starting hosts at the first failed host (exit 3) [default: false]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('--keep-runs', '--keep-runs', [CompletionResultType]::ParameterName, 'Runs kept in the history; older ones are pruned after each run')
            [CompletionResult]::new('--keep-for', '--keep-for', [CompletionResultType]::ParameterName, 'Also prune runs older than this, e.g. 30d, 12h [default: no age limit]')
            [CompletionResult]::new('--diff-against', '--diff-against', [CompletionResultType]::ParameterName, 'After the run, print its drift against REF (a run id, `last`, `last~N`, or a report file)')
            [CompletionResult]::new('--retry-failed', '--retry-failed', [CompletionResultType]::ParameterName, 'Run only the hosts that failed, were unreachable or were cancelled in REF (a report file, a run id, `last`)')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Run one part K of N of the selected hosts, split by a stable hash of the host name')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the JSON report here, atomically, also when interrupted (`-`: stdout)')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write JUnit XML here, one test case per host × task (`-`: stdout)')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Write a self-contained HTML page of the run here (atomically): timeline, host table, outputs, errors, drift with --diff-against')
            [CompletionResult]::new('--events', '--events', [CompletionResultType]::ParameterName, 'Stream every event as one JSON line to FILE, or to stdout with `-`')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend')
            [CompletionResult]::new('--ask-pass', '--ask-pass', [CompletionResultType]::ParameterName, 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Render and plan every command, connect to nothing (what `drover check` does)')
            [CompletionResult]::new('--syntax-check', '--syntax-check', [CompletionResultType]::ParameterName, 'Validate the playbook and render every command, connect to nothing (as `drover check`)')
            [CompletionResult]::new('--list-hosts', '--list-hosts', [CompletionResultType]::ParameterName, 'Print the hosts each play would run on, connect to nothing')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Not supported: drover does not ask before each task')
            [CompletionResult]::new('--reset-breakers', '--reset-breakers', [CompletionResultType]::ParameterName, 'Forget every breaker of this inventory before the run')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not record this run in the history')
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
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--extra-vars', '--extra-vars', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--platforms', '--platforms', [CompletionResultType]::ParameterName, 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key')
            [CompletionResult]::new('--tags', '--tags', [CompletionResultType]::ParameterName, 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too')
            [CompletionResult]::new('--skip-tags', '--skip-tags', [CompletionResultType]::ParameterName, 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, '`json`: print the report on stdout, for scripts (the summary goes to stderr)')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--forks', '--forks', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Per connection attempt [default: 10s]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Per command, output included; then what it started is killed (a task''s `timeout` overrides it) [default: 8s]')
            [CompletionResult]::new('--host-timeout', '--host-timeout', [CompletionResultType]::ParameterName, 'Whole-host deadline; a command it cuts short is killed [default: none]')
            [CompletionResult]::new('--batch-pause', '--batch-pause', [CompletionResultType]::ParameterName, 'Wait between batches [default: 0s]')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]')
            [CompletionResult]::new('--gateway-rate', '--gateway-rate', [CompletionResultType]::ParameterName, 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Connection attempts after the first, for transient failures only [default: 2]')
            [CompletionResult]::new('--backoff', '--backoff', [CompletionResultType]::ParameterName, 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]')
            [CompletionResult]::new('--backoff-cap', '--backoff-cap', [CompletionResultType]::ParameterName, 'Longest wait between connection attempts [default: 60s]')
            [CompletionResult]::new('--breaker-threshold', '--breaker-threshold', [CompletionResultType]::ParameterName, 'Consecutive transport failures that open a host''s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]')
            [CompletionResult]::new('--breaker-cooldown', '--breaker-cooldown', [CompletionResultType]::ParameterName, 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]')
            [CompletionResult]::new('--max-fail-percentage', '--max-fail-percentage', [CompletionResultType]::ParameterName, 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]')
            [CompletionResult]::new('--min-hosts-done', '--min-hosts-done', [CompletionResultType]::ParameterName, 'Finished hosts needed before max_fail_percentage is judged [default: 1]')
            [CompletionResult]::new('--any-errors-fatal', '--any-errors-fatal', [CompletionResultType]::ParameterName, 'Stop starting hosts at the first failed host (exit 3) [default: false]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('--keep-runs', '--keep-runs', [CompletionResultType]::ParameterName, 'Runs kept in the history; older ones are pruned after each run')
            [CompletionResult]::new('--keep-for', '--keep-for', [CompletionResultType]::ParameterName, 'Also prune runs older than this, e.g. 30d, 12h [default: no age limit]')
            [CompletionResult]::new('--diff-against', '--diff-against', [CompletionResultType]::ParameterName, 'After the run, print its drift against REF (a run id, `last`, `last~N`, or a report file)')
            [CompletionResult]::new('--retry-failed', '--retry-failed', [CompletionResultType]::ParameterName, 'Run only the hosts that failed, were unreachable or were cancelled in REF (a report file, a run id, `last`)')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Run one part K of N of the selected hosts, split by a stable hash of the host name')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the JSON report here, atomically, also when interrupted (`-`: stdout)')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write JUnit XML here, one test case per host × task (`-`: stdout)')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Write a self-contained HTML page of the run here (atomically): timeline, host table, outputs, errors, drift with --diff-against')
            [CompletionResult]::new('--events', '--events', [CompletionResultType]::ParameterName, 'Stream every event as one JSON line to FILE, or to stdout with `-`')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend')
            [CompletionResult]::new('--ask-pass', '--ask-pass', [CompletionResultType]::ParameterName, 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend')
            [CompletionResult]::new('--reset-breakers', '--reset-breakers', [CompletionResultType]::ParameterName, 'Forget every breaker of this inventory before the run')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not record this run in the history')
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
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--extra-vars', '--extra-vars', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--platforms', '--platforms', [CompletionResultType]::ParameterName, 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key')
            [CompletionResult]::new('--tags', '--tags', [CompletionResultType]::ParameterName, 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too')
            [CompletionResult]::new('--skip-tags', '--skip-tags', [CompletionResultType]::ParameterName, 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend')
            [CompletionResult]::new('--ask-pass', '--ask-pass', [CompletionResultType]::ParameterName, 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend')
            [CompletionResult]::new('--list-hosts', '--list-hosts', [CompletionResultType]::ParameterName, 'Print only the hosts each play would run on')
            [CompletionResult]::new('--syntax-check', '--syntax-check', [CompletionResultType]::ParameterName, 'Accepted for Ansible habit: `check` validates and renders anyway')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;watch' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--extra-vars', '--extra-vars', [CompletionResultType]::ParameterName, 'Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)')
            [CompletionResult]::new('--platforms', '--platforms', [CompletionResultType]::ParameterName, 'Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key')
            [CompletionResult]::new('--tags', '--tags', [CompletionResultType]::ParameterName, 'Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too')
            [CompletionResult]::new('--skip-tags', '--skip-tags', [CompletionResultType]::ParameterName, 'Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Remote user for hosts whose inventory sets none (Ansible''s -u: inventory `user` wins)')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch [default: 10]')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'batched, or rolling: a window of `concurrency` hosts, the next starts as one ends [default: batched]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--forks', '--forks', [CompletionResultType]::ParameterName, 'Most hosts in flight at once (in batched, never above batch_size) [default: 10]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Per connection attempt [default: 10s]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Per command, output included; then what it started is killed (a task''s `timeout` overrides it) [default: 8s]')
            [CompletionResult]::new('--host-timeout', '--host-timeout', [CompletionResultType]::ParameterName, 'Whole-host deadline; a command it cuts short is killed [default: none]')
            [CompletionResult]::new('--batch-pause', '--batch-pause', [CompletionResultType]::ParameterName, 'Wait between batches [default: 0s]')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s [default: 20/s]')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Connections that may start at once after an idle spell (1 = evenly spaced) [default: 1]')
            [CompletionResult]::new('--gateway-rate', '--gateway-rate', [CompletionResultType]::ParameterName, 'New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker) [default: none]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Connection attempts after the first, for transient failures only [default: 2]')
            [CompletionResult]::new('--backoff', '--backoff', [CompletionResultType]::ParameterName, 'Base of the exponential backoff between connection attempts (full jitter) [default: 2s]')
            [CompletionResult]::new('--backoff-cap', '--backoff-cap', [CompletionResultType]::ParameterName, 'Longest wait between connection attempts [default: 60s]')
            [CompletionResult]::new('--breaker-threshold', '--breaker-threshold', [CompletionResultType]::ParameterName, 'Consecutive transport failures that open a host''s circuit breaker; 0 = off (play: circuit_breaker.threshold) [default: 3]')
            [CompletionResult]::new('--breaker-cooldown', '--breaker-cooldown', [CompletionResultType]::ParameterName, 'How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown) [default: 180s]')
            [CompletionResult]::new('--max-fail-percentage', '--max-fail-percentage', [CompletionResultType]::ParameterName, 'Stop starting hosts once more than this share of the finished hosts failed (exit 3) [default: none]')
            [CompletionResult]::new('--min-hosts-done', '--min-hosts-done', [CompletionResultType]::ParameterName, 'Finished hosts needed before max_fail_percentage is judged [default: 1]')
            [CompletionResult]::new('--any-errors-fatal', '--any-errors-fatal', [CompletionResultType]::ParameterName, 'Stop starting hosts at the first failed host (exit 3) [default: false]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long (e.g. 10m, 1h), as if interrupted; without it, watch until SIGINT or SIGTERM')
            [CompletionResult]::new('--events', '--events', [CompletionResultType]::ParameterName, 'Stream every check, level change and subscription change as one JSON line to FILE, or to stdout with `-`')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the report of the watch period here as JSON (atomically) when the watch ends')
            [CompletionResult]::new('--metrics', '--metrics', [CompletionResultType]::ParameterName, 'Keep a Prometheus textfile here (node_exporter''s textfile collector): per host up, level and check time; rewritten atomically')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend')
            [CompletionResult]::new('--ask-pass', '--ask-pass', [CompletionResultType]::ParameterName, 'Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose inventory sets none; those hosts then log in on the native backend')
            [CompletionResult]::new('--reset-breakers', '--reset-breakers', [CompletionResultType]::ParameterName, 'Forget every breaker of this inventory before the run')
            [CompletionResult]::new('--fresh', '--fresh', [CompletionResultType]::ParameterName, 'Start every host afresh at the start level, ignoring the watch state saved by an earlier watch')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;inventory' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Inventory file (repeatable; later ones win)')
            [CompletionResult]::new('--inventory', '--inventory', [CompletionResultType]::ParameterName, 'Inventory file (repeatable; later ones win)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Print one host''s resolved variables and where each came from')
            [CompletionResult]::new('--list-hosts', '--list-hosts', [CompletionResultType]::ParameterName, 'Print the hosts PATTERN selects, one per line, in the order a run takes them (what `ansible PATTERN --list-hosts` prints)')
            [CompletionResult]::new('--playbook-dir', '--playbook-dir', [CompletionResultType]::ParameterName, 'Also read `group_vars/` and `host_vars/` in DIR, as for a playbook there (Ansible''s `--playbook-dir`)')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'Print the whole inventory as Ansible-style JSON (the default); secret-named values are masked')
            [CompletionResult]::new('--graph', '--graph', [CompletionResultType]::ParameterName, 'Draw the group tree')
            [CompletionResult]::new('--names', '--names', [CompletionResultType]::ParameterName, 'Print every group and host name, one per line (what shell completion offers for `--limit` and `--host`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;history' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('--playbook', '--playbook', [CompletionResultType]::ParameterName, 'Only runs of this playbook (its path as given, or its file name)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only runs started at or after this: an RFC 3339 time or an age such as 2h, 7d')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only runs started before this: an RFC 3339 time or an age such as 2h, 7d')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON array of runs on stdout, for scripts')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;report' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a past run''s summary as the run printed it')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show the drift between two runs per host and task; exit 2 when something drifted')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Join the reports of `--shard K/N` runs into the report one run would have written')
            [CompletionResult]::new('html', 'html', [CompletionResultType]::ParameterValue, 'Write a run''s report as one self-contained HTML page (no network, works from file://)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'drover;report;show' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the whole JSON report instead of the summary')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;report;diff' {
            [CompletionResult]::new('--max-lines', '--max-lines', [CompletionResultType]::ParameterName, 'Lines of output diff shown per change before it is cut')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write B''s HTML page with this drift in it (see `drover report html`)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The drift as JSON on stdout, for scripts')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;report;merge' {
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the merged JSON report here')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write the merged JUnit XML here')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state directory, for run ids [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;report;html' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the page here (atomically) [default: stdout]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the page here (atomically) [default: stdout]')
            [CompletionResult]::new('--diff-against', '--diff-against', [CompletionResultType]::ParameterName, 'Add a drift view: what changed since REF (a run id, `last~N`, or a report file)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state directory [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'drover;report;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a past run''s summary as the run printed it')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show the drift between two runs per host and task; exit 2 when something drifted')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Join the reports of `--shard K/N` runs into the report one run would have written')
            [CompletionResult]::new('html', 'html', [CompletionResultType]::ParameterValue, 'Write a run''s report as one self-contained HTML page (no network, works from file://)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'drover;report;help;show' {
            break
        }
        'drover;report;help;diff' {
            break
        }
        'drover;report;help;merge' {
            break
        }
        'drover;report;help;html' {
            break
        }
        'drover;report;help;help' {
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
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Watch the fleet: the play''s tasks as health checks, each host on its level''s interval')
            [CompletionResult]::new('inventory', 'inventory', [CompletionResultType]::ParameterValue, 'Show the inventory: hosts, groups and resolved variables')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the recorded runs: id, start, playbook, hosts per status, duration, exit code')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Past runs'' reports: show one, diff two (drift), merge shards, write an HTML page')
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
        'drover;help;watch' {
            break
        }
        'drover;help;inventory' {
            break
        }
        'drover;help;history' {
            break
        }
        'drover;help;report' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a past run''s summary as the run printed it')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show the drift between two runs per host and task; exit 2 when something drifted')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Join the reports of `--shard K/N` runs into the report one run would have written')
            [CompletionResult]::new('html', 'html', [CompletionResultType]::ParameterValue, 'Write a run''s report as one self-contained HTML page (no network, works from file://)')
            break
        }
        'drover;help;report;show' {
            break
        }
        'drover;help;report;diff' {
            break
        }
        'drover;help;report;merge' {
            break
        }
        'drover;help;report;html' {
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
