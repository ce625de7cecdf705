//! Who, where and what a run was: its time-sortable id, the user, the machine's hostname, the
//! command line with secret-looking values masked, and digests of the inventory and playbook.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// A run id: the UTC start time to the millisecond, then four hex digits that tell apart two
/// processes starting in the same millisecond. Ids sort as the runs started.
pub fn run_id(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let stamp = humantime::format_rfc3339_millis(UNIX_EPOCH + since).to_string();
    // 2026-12-01T11:15:00.123Z → 20261201T111500.123Z
    let compact: String = stamp.chars().filter(|c| *c != '-' && *c != ':').collect();
    let salt = digest_bytes(format!("{}-{}", std::process::id(), since.as_nanos()).as_bytes());
    format!("{compact}-{:04x}", salt & 0xffff)
}

/// The user name from the environment, else the numeric uid.
pub fn user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|| unsafe { libc::getuid() }.to_string())
}

/// The machine's host name; empty when it cannot be read.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The command line as it will be stored: any argument that names a secret-looking key
/// (`-e password=…`, a JSON mapping with a token) keeps its key and loses its value.
pub fn masked_argv(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter().map(|a| mask_arg(&a)).collect()
}

fn mask_arg(arg: &str) -> String {
    if !crate::secrets::looks_secret(arg) {
        return arg.to_string();
    }
    match arg.find(['=', ':']) {
        Some(at) => format!("{}********", &arg[..=at]),
        None => arg.to_string(),
    }
}

/// A digest of these files' contents (directories walked in name order); a file that cannot
/// be read contributes its path only, so the digest still tells inventories apart.
pub fn digest_paths(paths: &[impl AsRef<Path>]) -> String {
    let mut bytes = Vec::new();
    for p in paths {
        collect(p.as_ref(), &mut bytes);
    }
    format!("fnv1a64:{:016x}", digest_bytes(&bytes))
}

/// The digest of a text (`exec`'s pattern and command line).
pub fn digest_text(text: &str) -> String {
    format!("fnv1a64:{:016x}", digest_bytes(text.as_bytes()))
}

fn collect(path: &Path, out: &mut Vec<u8>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            out.extend_from_slice(e.file_name().unwrap_or_default().as_encoded_bytes());
            out.push(0);
            collect(&e, out);
        }
    } else {
        match std::fs::read(path) {
            Ok(content) => out.extend_from_slice(&content),
            Err(_) => out.extend_from_slice(path.as_os_str().as_encoded_bytes()),
        }
        out.push(0);
    }
}

/// FNV-1a with a final avalanche: the same across builds and machines (std's hasher is
/// not), and with low bits that depend on every input byte, which `--shard` relies on.
pub fn digest_bytes(bytes: &[u8]) -> u64 {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    // splitmix64's finaliser.
    let h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_as_the_runs_started() {
        let a = run_id(UNIX_EPOCH + std::time::Duration::from_millis(1_764_587_700_123));
        let b = run_id(UNIX_EPOCH + std::time::Duration::from_millis(1_764_587_700_124));
        assert!(a.starts_with("20251201T111500.123Z-"), "{a}");
        assert!(a < b);
    }

    #[test]
    fn secret_arguments_keep_their_key_only() {
        let argv = masked_argv(
            [
                "drover",
                "-e",
                "enable_password=hunter2",
                "-e",
                "version=17",
            ]
            .map(String::from),
        );
        assert_eq!(argv[2], "enable_password=********");
        assert_eq!(argv[4], "version=17");
    }
}
