//! The terminal's size, asked of the file descriptor itself (a pipe or a file has none).

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
