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
        clap_complete::generate_to(shell, &mut Cli::command(), "drover", &completions)
            .map_err(|e| Error::io(&completions, "write completions", e))?;
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
