//! Where the fixtures listen. A server is handed a port that the fixture found free a moment
//! earlier (sshd and mosquitto cannot take an inherited socket), and in that moment a
//! neighbouring test could start its own server on the same port; the test would then talk
//! to the neighbour's sshd or broker and see its traffic. So every test process listens on an
//! address of its own in 127.0.0.0/8, derived from its pid (nextest runs each test in its own
//! process): another process can never take one of our ports, and "nothing listens there"
//! stays true for a closed port. Within a process, ports handed out are remembered so two
//! fixtures of one test never get the same one.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Mutex;

/// This process's loopback address: 127.x.y.z with x in 100..=166, never 127.0.0.1, and
/// different for every live pid (pids stay below 2^22).
pub fn addr() -> Ipv4Addr {
    let pid = std::process::id();
    let z = 1 + pid % 250;
    let y = (pid / 250) % 256;
    let x = 100 + (pid / 64_000) % 156;
    Ipv4Addr::new(127, x as u8, y as u8, z as u8)
}

/// This process's loopback address as text, for configs and inventories.
pub fn host() -> String {
    addr().to_string()
}

/// A port on `addr()` that nothing listens on and that no other fixture of this process
/// has been given.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    loop {
        let port = TcpListener::bind((addr(), 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        if given.insert(port) {
            return port;
        }
    }
}
