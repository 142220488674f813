//! The memory figure for the metrics.

use letterbox::store::MailStore;

use super::Account;

/// A backend need not know its memory; one that does holds some once it
/// has opened its data and stored a message.
pub fn memory_figure_when_known_is_not_zero(store: &dyn MailStore) {
    let alice = Account::create(store, "alice");
    alice.append("INBOX", "x\r\n");
    if let Some(bytes) = store.memory_used() {
        assert!(bytes > 0);
    }
}
