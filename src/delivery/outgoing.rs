//! Mail a delivery sends on: Sieve redirects and the vacation reply.
//! Gathered while the message is stored, sent afterwards, outside the
//! store's write slot (a slow relay must not hold up everyone's writes);
//! a redirect the relay refuses means the message is kept after all.

use super::{Delivered, DeliveryError, smtp, store_copy, vacation};
use crate::config::Config;
use crate::store::{Flags, MailStore, MailboxName, UserRecord};

/// What one delivery sends on.
#[derive(Debug)]
pub struct Outgoing {
    pub user: UserRecord,
    pub script: String,
    /// The original envelope sender, which redirects keep.
    pub sender: String,
    /// The message as received, without our Return-Path.
    pub message: Vec<u8>,
    pub redirects: Vec<String>,
    pub vacation: Option<vacation::Reply>,
    /// A copy is stored where the message is kept.
    pub kept: bool,
}

impl Outgoing {
    pub fn new(user: &UserRecord, script: &str, sender: &str, message: &[u8]) -> Outgoing {
        Outgoing {
            user: user.clone(),
            script: script.to_owned(),
            sender: sender
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned(),
            message: message.to_vec(),
            redirects: Vec::new(),
            vacation: None,
            kept: false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.redirects.is_empty() && self.vacation.is_none()
    }

    /// Sends everything through `[sieve] smtp_relay` (blocking: call it
    /// off the async threads). True when a redirect failed and the
    /// message, not kept yet, must be.
    pub fn send(&self, config: &Config) -> bool {
        let Some(relay) = config.sieve.smtp_relay.as_deref() else {
            return !self.redirects.is_empty() && !self.kept;
        };
        let (user, script) = (&self.user.name, self.script.as_str());
        let hostname = super::hostname();
        let mut failed = false;
        for address in &self.redirects {
            match smtp::send(relay, &hostname, &self.sender, address, &self.message) {
                Ok(()) => tracing::info!(%user, script, address, "sieve: redirected"),
                Err(error) => {
                    tracing::warn!(%user, script, address, %error, "sieve: redirect failed, message kept");
                    failed = true;
                }
            }
        }
        if let Some(reply) = &self.vacation {
            // RFC 5230 §5.1: from the null sender, so nothing bounces back.
            let to = &reply.recipient;
            match smtp::send(relay, &hostname, "", to, &reply.message) {
                Ok(()) => tracing::info!(%user, script, %to, "sieve: vacation reply sent"),
                Err(error) => {
                    tracing::warn!(%user, script, %to, %error, "sieve: vacation reply failed")
                }
            }
        }
        failed && !self.kept
    }

    /// Keeps the message in INBOX after a failed redirect.
    pub fn keep(
        &self,
        store: &dyn MailStore,
        delivered: &mut Delivered,
    ) -> Result<(), DeliveryError> {
        let inbox = MailboxName::new("INBOX").expect("INBOX is valid");
        let stored = store_copy(store, &self.user, &inbox, &self.message, Flags::default())?;
        delivered.stored.push(stored);
        Ok(())
    }
}
