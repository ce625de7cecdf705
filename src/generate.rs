//! `drover generate` (hidden): writes the files drover ships that are derived from its own
//! types — shell completions (clap_complete), man pages (clap_mangen, see [`crate::man`]) and the report's JSON
//! Schema (schemars). A test regenerates them and fails when the checked-in copies differ.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// Writes `completions/`, `man/` and `schema/report.schema.json` under `root`.
pub fn generate(root: &Path) -> Result<()> {
    let completions = root.join("completions");
    let man = root.join("man");
    let schema = root.join("schema");
    for dir in [&completions, &man, &schema] {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create the directory", e))?;
    }
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let path = clap_complete::generate_to(shell, &mut Cli::command(), "drover", &completions)
            .map_err(|e| Error::io(&completions, "write completions", e))?;
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::io(&path, "read completions", e))?;
        if let Some(text) = with_names(shell, &text) {
            std::fs::write(&path, text).map_err(|e| Error::io(&path, "write completions", e))?;
        }
    }
    for (name, page) in crate::man::pages(Cli::command()) {
        let path = man.join(name);
        std::fs::write(&path, page).map_err(|e| Error::io(&path, "write the man page", e))?;
    }
    let path = schema.join("report.schema.json");
    std::fs::write(&path, crate::report::schema())
        .map_err(|e| Error::io(&path, "write the schema", e))?;
    let readme = root.join("README.md");
    if let Ok(text) = std::fs::read_to_string(&readme) {
        if let Some(updated) = with_settings_table(&text) {
            std::fs::write(&readme, updated).map_err(|e| Error::io(&readme, "write", e))?;
        }
    }
    Ok(())
}

/// Bash: host and group names for `-l/--limit` and `--host`, from `drover inventory --names`
/// with the command line's `-i` arguments (or the configured inventory); everything else as
/// clap completes it.
const BASH_NAMES: &str = r#"
# Host and group names for -l/--limit and --host, from the inventory the line gives with -i.
_drover_names() {
    local i inv=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -i|--inventory) inv+=(-i "${COMP_WORDS[i+1]}") ;;
            --inventory=*) inv+=(-i "${COMP_WORDS[i]#--inventory=}") ;;
        esac
    done
    "${COMP_WORDS[0]}" inventory "${inv[@]}" --names 2>/dev/null
}

_drover_with_names() {
    case "${COMP_WORDS[COMP_CWORD-1]}" in
        -l|--limit|--host)
            local names
            if names=$(_drover_names); then
                COMPREPLY=($(compgen -W "${names}" -- "${COMP_WORDS[COMP_CWORD]}"))
                return 0
            fi
            ;;
    esac
    _drover "$@"
}

complete -F _drover_with_names -o bashdefault -o default drover
"#;

/// Zsh: the same, as the completion function of the pattern and host arguments.
const ZSH_NAMES: &str = r#"
# Host and group names for -l/--limit and --host, from the inventory the line gives with -i.
(( $+functions[_drover_names] )) ||
_drover_names() {
    local -a inv names
    local i
    for (( i = 2; i < CURRENT; i++ )); do
        case "${words[i]}" in
            -i|--inventory) inv+=(-i "${words[i+1]}") ;;
            --inventory=*) inv+=(-i "${words[i]#--inventory=}") ;;
        esac
    done
    names=(${(f)"$(${words[1]} inventory "${inv[@]}" --names 2>/dev/null)"})
    _describe 'host or group' names
}
"#;

/// Fish: the same, added to clap's `-l/--limit` and `--host` entries.
const FISH_NAMES: &str = r#"
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
"#;

/// The generated completion script with host and group names completed from the inventory,
/// for the shells that can run a command while completing; `None` for the others.
fn with_names(shell: Shell, text: &str) -> Option<String> {
    match shell {
        Shell::Bash => Some(format!("{text}{BASH_NAMES}")),
        Shell::Zsh => {
            let text = text
                .replace(":PATTERN:_default'", ":PATTERN:_drover_names'")
                .replace(":NAME:_default'", ":NAME:_drover_names'");
            // Before the end, which runs `_drover` at once when the file is autoloaded.
            let end = text.rfind("\nif [ \"$funcstack[1]\" = \"_drover\" ]; then")?;
            Some(format!("{}{ZSH_NAMES}{}", &text[..end], &text[end..]))
        }
        Shell::Fish => Some(format!("{text}{FISH_NAMES}")),
        _ => None,
    }
}

const TABLE_START: &str = "<!-- run-settings:";
const TABLE_END: &str = "<!-- /run-settings -->";

/// `text` with the settings table between its markers made anew from the declaration, or
/// `None` when it has no markers.
pub fn with_settings_table(text: &str) -> Option<String> {
    let start = text.find(TABLE_START)?;
    let body = start + text[start..].find('\n')? + 1;
    let end = body + text[body..].find(TABLE_END)?;
    Some(format!(
        "{}{}{}",
        &text[..body],
        crate::settings::markdown_table(),
        &text[end..]
    ))
}
