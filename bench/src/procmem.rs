//! Memory of a server as the kernel counts it: the process and all its
//! descendants (Dovecot runs a process per login), as RSS and as PSS
//! (shared pages divided among the processes sharing them, the fair
//! figure for a forking server).

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Memory {
    pub processes: usize,
    pub rss_kib: u64,
    pub pss_kib: u64,
}

/// The memory of `root` and every process below it now.
pub fn of_tree(root: u32) -> Memory {
    let mut memory = Memory::default();
    for pid in tree(root) {
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        memory.processes += 1;
        memory.rss_kib += field(&rollup, "Rss:");
        memory.pss_kib += field(&rollup, "Pss:");
    }
    memory
}

/// Peak RSS (`VmHWM`) of one process.
pub fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| field(&s, "VmHWM:"))
        .unwrap_or(0)
}

/// Threads of one process now.
pub fn threads(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| field(&s, "Threads:"))
        .unwrap_or(0)
}

fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// `root` and its descendants, from the parent links in /proc/*/stat.
fn tree(root: u32) -> Vec<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The command name may contain spaces: fields start after ')'.
            let Some(after) = stat.rsplit_once(')') else {
                continue;
            };
            if let Some(ppid) = after
                .1
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
            {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut all = vec![root];
    let mut next = 0;
    while next < all.len() {
        if let Some(kids) = children.get(&all[next]) {
            all.extend(kids);
        }
        next += 1;
    }
    all
}
