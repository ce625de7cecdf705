//! The terminal: its size, asked of the file descriptor itself (a pipe or a file has none),
//! and a password read from it with echo off.

/// Columns and rows of the terminal behind `fd`, or `None` when it is not one.
pub fn size(fd: libc::c_int) -> Option<(usize, usize)> {
    // SAFETY: TIOCGWINSZ only writes a `winsize` into the struct we pass.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0 && size.ws_row > 0)
        .then(|| (usize::from(size.ws_col), usize::from(size.ws_row)))
}

/// Columns of the terminal on stdout, if it is one.
pub fn stdout_columns() -> Option<usize> {
    size(libc::STDOUT_FILENO).map(|(c, _)| c)
}

/// Columns of the terminal on stderr, if it is one.
pub fn stderr_columns() -> Option<usize> {
    size(libc::STDERR_FILENO).map(|(c, _)| c)
}

/// The terminal settings to put back if SIGINT arrives while a password is typed (echo off).
static SAVED_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static SAVED_TERMIOS: std::sync::OnceLock<libc::termios> = std::sync::OnceLock::new();

extern "C" fn restore_and_exit(_: libc::c_int) {
    let fd = SAVED_FD.load(std::sync::atomic::Ordering::SeqCst);
    if let (true, Some(t)) = (fd >= 0, SAVED_TERMIOS.get()) {
        // SAFETY: tcsetattr and _exit are async-signal-safe; `t` is a valid termios.
        unsafe {
            libc::tcsetattr(fd, libc::TCSANOW, t);
        }
    }
    // SAFETY: ends the process at once, as the default SIGINT action would.
    unsafe { libc::_exit(130) }
}

/// Reads one line from the controlling terminal with echo off (a password): the prompt and
/// the newline go to the terminal, nothing else is shown. `None` when there is no terminal.
pub fn read_secret(prompt: &str) -> Option<std::io::Result<String>> {
    use std::io::{BufRead, Write};
    use std::os::fd::AsRawFd;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let fd = tty.as_raw_fd();
    // SAFETY: a zeroed termios is a valid out-parameter for tcgetattr.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is open for the whole call; tcgetattr only writes `term`.
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        return None;
    }
    let saved = term;
    if SAVED_TERMIOS.set(saved).is_ok() {
        SAVED_FD.store(fd, std::sync::atomic::Ordering::SeqCst);
        // SAFETY: the handler only calls async-signal-safe functions.
        unsafe {
            libc::signal(
                libc::SIGINT,
                restore_and_exit as *const () as libc::sighandler_t,
            );
        }
    }
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: `term` came from tcgetattr on the same fd.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    let read = (|| {
        (&tty).write_all(prompt.as_bytes())?;
        (&tty).flush()?;
        let mut line = String::new();
        std::io::BufReader::new(&tty).read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    })();
    // SAFETY: puts back what tcgetattr returned.
    unsafe {
        libc::tcsetattr(fd, libc::TCSANOW, &saved);
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
    SAVED_FD.store(-1, std::sync::atomic::Ordering::SeqCst);
    Some(read)
}
