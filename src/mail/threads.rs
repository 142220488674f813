//! The threading algorithms of RFC 5256 §2.2 and §3 (ORDEREDSUBJECT,
//! REFERENCES) and Dovecot's REFS (REFERENCES without subject merging,
//! threads ordered by their newest message), over the stored sort fields.

use std::borrow::Cow;

use rustc_hash::FxHashMap as HashMap;

use crate::mail::subject;
pub use crate::proto::response::Thread;
use crate::store::SortFields;

/// One message to thread: `id` is what the answer shows (a sequence
/// number or a UID); `date` is the sent date (INTERNALDATE without one).
pub struct Message<'a> {
    pub id: u32,
    pub seq: u32,
    pub date: i64,
    pub fields: &'a SortFields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    OrderedSubject,
    References,
    Refs,
}

/// The threads of `messages` (given in sequence order).
pub fn threads(messages: &[Message], algorithm: Algorithm) -> Vec<Thread> {
    match algorithm {
        Algorithm::OrderedSubject => ordered_subject(messages),
        Algorithm::References | Algorithm::Refs => references(messages, algorithm),
    }
}

/// Sent date, then sequence number: the order of RFC 5256 §2.2.
fn sent_order(m: &Message) -> (i64, u32) {
    (m.date, m.seq)
}

/// ASCII upper case: base subjects are compared with i;ascii-casemap (and
/// stored so, but for messages kept before that).
fn subject_key<'a>(m: &Message<'a>) -> Cow<'a, str> {
    subject::ascii_casemap(&m.fields.base_subject)
}

/// ORDEREDSUBJECT: messages sorted by base subject and sent date; each
/// subject's first message is the parent of the others; threads in the
/// order of their first message's sent date.
fn ordered_subject(messages: &[Message]) -> Vec<Thread> {
    let mut sorted: Vec<&Message> = messages.iter().collect();
    sorted.sort_by_cached_key(|m| (subject_key(m), sent_order(m)));
    let mut threads: Vec<((i64, u32), Thread)> = Vec::new();
    let mut last_subject: Option<Cow<str>> = None;
    for m in sorted {
        let key = subject_key(m);
        let leaf = Thread {
            id: Some(m.id),
            children: Vec::new(),
        };
        match threads.last_mut() {
            Some((_, thread)) if last_subject.as_ref() == Some(&key) => thread.children.push(leaf),
            _ => threads.push((sent_order(m), leaf)),
        }
        last_subject = Some(key);
    }
    threads.sort_by_key(|(order, _)| *order);
    threads.into_iter().map(|(_, thread)| thread).collect()
}

/// A container of the REFERENCES algorithm: a message or a dummy.
#[derive(Default)]
struct Node {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Forest<'m, 'f> {
    messages: &'m [Message<'f>],
    nodes: Vec<Node>,
}

impl<'m, 'f> Forest<'m, 'f> {
    fn add(&mut self) -> usize {
        self.nodes.push(Node::default());
        self.nodes.len() - 1
    }

    /// Whether `node` is `ancestor` or lies below it.
    fn descends_from(&self, mut node: usize, ancestor: usize) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes[node].parent {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    fn unlink(&mut self, child: usize) {
        if let Some(parent) = self.nodes[child].parent.take() {
            self.nodes[parent].children.retain(|&c| c != child);
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    /// The message that stands for a container when sorting and merging:
    /// its own, or a dummy's first child's.
    fn representative(&self, node: usize) -> Option<&'m Message<'f>> {
        let n = &self.nodes[node];
        match n.message {
            Some(m) => Some(&self.messages[m]),
            None => n.children.first().and_then(|&c| self.representative(c)),
        }
    }

    fn order(&self, node: usize) -> (i64, u32) {
        self.representative(node)
            .map_or((i64::MAX, u32::MAX), sent_order)
    }

    /// (4) Prunes dummies under `list`; returns the new list.
    fn prune(&mut self, list: Vec<usize>, top: bool) -> Vec<usize> {
        let mut out = Vec::new();
        for node in list {
            let children = std::mem::take(&mut self.nodes[node].children);
            let children = self.prune(children, false);
            self.nodes[node].children = children.clone();
            if self.nodes[node].message.is_some() {
                out.push(node);
            } else if children.is_empty() {
                continue;
            } else if !top || children.len() == 1 {
                let parent = self.nodes[node].parent;
                for &c in &children {
                    self.nodes[c].parent = parent;
                }
                out.extend(children);
            } else {
                out.push(node);
            }
        }
        out
    }

    /// Sorts siblings by sent date at every level below `list` (children
    /// first, so a dummy's first child is known), then `list` itself.
    fn sort(&mut self, list: &mut [usize]) {
        for &node in list.iter() {
            let mut children = std::mem::take(&mut self.nodes[node].children);
            self.sort(&mut children);
            self.nodes[node].children = children;
        }
        list.sort_by_key(|&n| self.order(n));
    }

    fn thread(&self, node: usize) -> Thread {
        let n = &self.nodes[node];
        Thread {
            id: n.message.map(|m| self.messages[m].id),
            children: n.children.iter().map(|&c| self.thread(c)).collect(),
        }
    }
}

fn references(messages: &[Message], algorithm: Algorithm) -> Vec<Thread> {
    let mut forest = Forest {
        messages,
        nodes: Vec::new(),
    };
    let mut ids: HashMap<&str, usize> = HashMap::default();
    // (1) link every message under its references.
    for (index, m) in messages.iter().enumerate() {
        let mut previous: Option<usize> = None;
        for reference in &m.fields.references {
            let node = *ids
                .entry(reference.as_str())
                .or_insert_with(|| forest.add());
            if let Some(parent) = previous
                && forest.nodes[node].parent.is_none()
                && !forest.descends_from(parent, node)
            {
                forest.link(parent, node);
            }
            previous = Some(node);
        }
        // A duplicate or missing Message-ID: a container of its own.
        let own = match m.fields.message_id.as_deref() {
            Some(id) => match ids.get(id) {
                Some(&node) if forest.nodes[node].message.is_none() => node,
                Some(_) => forest.add(),
                None => {
                    let node = forest.add();
                    ids.insert(id, node);
                    node
                }
            },
            None => forest.add(),
        };
        forest.nodes[own].message = Some(index);
        forest.unlink(own);
        if let Some(parent) = previous
            && !forest.descends_from(parent, own)
        {
            forest.link(parent, own);
        }
    }
    // (2) the roots, (4) without dummies.
    let roots: Vec<usize> = (0..forest.nodes.len())
        .filter(|&n| forest.nodes[n].parent.is_none())
        .collect();
    let mut roots = forest.prune(roots, true);
    forest.sort(&mut roots);
    match algorithm {
        Algorithm::Refs => {
            // Threads ordered by their newest message (ties by the
            // sequence number of their top message; Dovecot's order of
            // such ties depends on its thread index, see docs/benchmarks.md).
            let newest = |forest: &Forest, root: usize| -> (i64, u32) {
                let (mut date, seq) = forest.order(root);
                let mut stack = vec![root];
                while let Some(n) = stack.pop() {
                    if let Some(m) = forest.nodes[n].message {
                        date = date.max(messages[m].date);
                    }
                    stack.extend(forest.nodes[n].children.iter().copied());
                }
                (date, seq)
            };
            // Worked out once per thread, not once per comparison.
            roots.sort_by_cached_key(|&r| newest(&forest, r));
        }
        _ => {
            roots = merge_subjects(&mut forest, roots);
            forest.sort(&mut roots);
        }
    }
    roots.iter().map(|&r| forest.thread(r)).collect()
}

/// (5) Threads whose roots share a base subject become one.
fn merge_subjects<'f>(forest: &mut Forest<'_, 'f>, roots: Vec<usize>) -> Vec<usize> {
    let subject = |forest: &Forest<'_, 'f>, node: usize| -> Option<(Cow<'f, str>, bool)> {
        let m = forest.representative(node)?;
        let key = subject_key(m);
        (!key.is_empty()).then_some((key, m.fields.subject_is_reply))
    };
    let is_dummy = |forest: &Forest, node: usize| forest.nodes[node].message.is_none();
    // (A) the container that represents each subject.
    let mut table: HashMap<Cow<'f, str>, usize> = HashMap::default();
    for &root in &roots {
        let Some((key, reply)) = subject(forest, root) else {
            continue;
        };
        match table.get(&key) {
            None => {
                table.insert(key, root);
            }
            Some(&held) => {
                let held_reply = subject(forest, held).is_some_and(|(_, r)| r);
                if (is_dummy(forest, root) && !is_dummy(forest, held))
                    || (!is_dummy(forest, held) && held_reply && !reply)
                {
                    table.insert(key, root);
                }
            }
        }
    }
    // (B) merge the others into it.
    let mut replaced: HashMap<usize, usize> = HashMap::default();
    for &root in &roots {
        if forest.nodes[root].parent.is_some() {
            continue; // already placed under a new dummy
        }
        let Some((key, reply)) = subject(forest, root) else {
            continue;
        };
        let held = table[&key];
        if held == root {
            continue;
        }
        let held_reply = subject(forest, held).is_some_and(|(_, r)| r);
        if is_dummy(forest, held) && is_dummy(forest, root) {
            for child in std::mem::take(&mut forest.nodes[root].children) {
                forest.nodes[child].parent = None;
                forest.link(held, child);
            }
        } else if is_dummy(forest, held) || (reply && !held_reply) {
            forest.link(held, root);
        } else {
            // A dummy takes the held container's place among the roots.
            let dummy = forest.add();
            replaced.insert(held, dummy);
            forest.link(dummy, held);
            forest.link(dummy, root);
            table.insert(key, dummy);
        }
    }
    roots
        .into_iter()
        .map(|r| replaced.get(&r).copied().unwrap_or(r))
        .filter(|&r| forest.nodes[r].parent.is_none())
        .filter(|&r| !is_dummy(forest, r) || !forest.nodes[r].children.is_empty())
        .collect()
}
