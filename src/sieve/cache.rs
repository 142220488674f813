//! Compiled scripts kept between deliveries: a user's script is compiled
//! once, not for every message. Keyed by the text itself, so a changed
//! script is simply another entry; bounded, emptied when full.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{CompileError, Script, compile};

/// Scripts kept at most (64 KiB each at most: a few MiB in all).
const CAPACITY: usize = 256;

static COMPILED: Mutex<Option<HashMap<String, Arc<Script>>>> = Mutex::new(None);

/// The script compiled, from the cache when it was compiled before.
pub fn compiled(text: &str) -> Result<Arc<Script>, CompileError> {
    if let Some(script) = lock().as_ref().and_then(|cache| cache.get(text).cloned()) {
        return Ok(script);
    }
    let script = Arc::new(compile(text)?);
    let mut cache = lock();
    let cache = cache.get_or_insert_with(HashMap::new);
    if cache.len() >= CAPACITY {
        cache.clear();
    }
    cache.insert(text.to_owned(), Arc::clone(&script));
    Ok(script)
}

fn lock() -> std::sync::MutexGuard<'static, Option<HashMap<String, Arc<Script>>>> {
    // A panic while holding it left nothing half-done: the map is whole.
    COMPILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_compiles_once() {
        let first = compiled("keep; # cache test").unwrap();
        let again = compiled("keep; # cache test").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(compiled("keep").is_err());
    }
}
