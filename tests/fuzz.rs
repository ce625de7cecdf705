//! A bounded fuzz of the inventory, playbook and template loaders that runs with the other
//! tests in a few seconds: inputs built from the corpus in `tests/fixtures/fuzz/` by a
//! seeded generator (splices of the corpus files and of YAML/Jinja fragments that stress the
//! parsers: anchors and aliases, deep nesting, tags, ranges, loops). No input may panic, and
//! none may make the loader allocate more than 200 MB at once: a counting allocator measures
//! the peak, so the bound is checked by counting, not by the clock.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts the bytes allocated now and the peak since the last reset.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the pointer came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most one input may make a loader hold at once.
const MAX_BYTES: usize = 200 << 20;

/// Inputs per loader: enough to find the shallow crashes in a few seconds of a debug build.
const ROUNDS: usize = 300;

/// xorshift64*: deterministic, so a failure is reproduced by its round number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "[[[[[[[[",
    "{a: {b: {c: [",
    "&a ",
    "*a",
    "&b [*a, *a, *a, *a]",
    "<<: *a",
    "- ",
    ": ",
    ", ",
    "\n",
    "\n  ",
    "\n    ",
    "\t",
    "#",
    "'",
    "\"",
    "? ",
    "|\n  ",
    ">-\n  ",
    "!vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  61",
    "!!str ",
    "~",
    "null",
    "yes",
    "0x1F",
    "1_000",
    "hosts:",
    "groups:",
    "vars:",
    "defaults:",
    "children:",
    "all:",
    "tasks:",
    "- command: ",
    "- hosts: all\n  tasks:\n    - command: ",
    "www[01:99]",
    "10.0.0.[1:255]",
    "h[a:z]",
    "[web:vars]",
    "[all:children]",
    "x=1 y='2'",
    "ansible_port=notaport",
    "{{ ",
    " }}",
    "{% for i in range(99) %}",
    "{% endfor %}",
    "{% if x %}",
    "{% endif %}",
    "{{ 'b' * 9999 }}",
    "| upper",
    "| default('x')",
    "{{ lookup('vault', 'x') }}",
    "\u{feff}",
    "é",
    "\0",
    "%",
    "---\n",
    "...\n",
    "batch_size: -1",
    "rate: 0/s",
    "serial: [1, '50%']",
    "loop: [1,2]",
];

/// One input: a corpus file with a few splices, or fragments alone.
fn input(rng: &mut Rng, corpus: &[String]) -> String {
    let mut text = if rng.below(4) == 0 {
        String::new()
    } else {
        corpus[rng.below(corpus.len())].clone()
    };
    for _ in 0..1 + rng.below(12) {
        let at = floor(&text, rng.below(text.len() + 1));
        match rng.below(4) {
            0 | 1 => text.insert_str(at, FRAGMENTS[rng.below(FRAGMENTS.len())]),
            2 => {
                let end = floor(&text, (at + rng.below(40)).min(text.len()));
                text.replace_range(at..end, "");
            }
            _ => {
                let end = floor(&text, (at + rng.below(60)).min(text.len()));
                let copy = text[at..end].repeat(1 + rng.below(8));
                text.insert_str(at, &copy);
            }
        }
    }
    text
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Runs `load` on `text` and checks the peak memory it took.
#[track_caller]
fn bounded(what: &str, round: usize, text: &str, load: impl FnOnce()) {
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    load();
    let used = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    assert!(
        used < MAX_BYTES,
        "{what} round {round}: {used} bytes for a {}-byte input:\n{}",
        text.len(),
        &text[..floor(text, text.len().min(2000))]
    );
}

#[test]
fn the_loaders_neither_panic_nor_blow_up_on_generated_input() {
    let corpus = corpus();
    assert!(corpus.len() >= 5, "the corpus is in tests/fixtures/fuzz");
    let mut rng = Rng(0x5eed_d20e_7a11_0001);
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    let env = drover::template::environment();
    let mut refused = 0;
    for round in 0..ROUNDS {
        let text = input(&mut rng, &corpus);
        bounded("inventory (yaml)", round, &text, || {
            refused +=
                usize::from(drover::inventory::from_yaml(Path::new("inv.yml"), &text).is_err());
        });
        std::fs::write(&hosts, &text).unwrap();
        bounded("inventory (sniffed)", round, &text, || {
            let _ = drover::inventory::load(&[&hosts]);
        });
        bounded("playbook", round, &text, || {
            let _ = drover::playbook::Playbook::parse(Path::new("p.yml"), &text);
        });
        bounded("template", round, &text, || {
            if let Ok(t) = env.template_from_str(&text) {
                let _ = drover::template::render_bounded(&t, &minijinja::Value::from(()));
            }
        });
    }
    // The generator is worth its time only if it reaches both outcomes.
    assert!(
        refused > 0 && refused < ROUNDS,
        "{refused} of {ROUNDS} refused"
    );
}
